// A request's model writes go out without waiting for each other and are awaited together before the response.
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Provider from 'oidc-provider';
import { awaitRequestWrites, writeWithinRequest } from '../../src/oidc/request-writes.js';
import { createOidcAdapter } from '../../src/storage/oidc-adapter.js';
import { createMemoryStore } from '../../src/storage/short-lived/memory-store.js';
import type { ShortLivedStore } from '../../src/storage/short-lived/short-lived-store.js';
import { handleErrors } from '../../src/http/handle-errors.js';
import { StoreUnavailableError } from '../../src/storage/store-unavailable.js';
import { createLogger } from '../../src/logger.js';

const CLIENT = {
  client_id: 'service',
  client_secret: 'a service secret that is long enough',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  id_token_signed_response_alg: 'ES256',
} as const;

/** A provider on an in-process store whose saves can be slowed down or made to fail, with the two pieces under test. */
async function setUp() {
  const store = createMemoryStore();
  const control = { delayMs: 0, fail: false, stored: [] as { model: string; at: number }[] };
  const slowStore: ShortLivedStore = {
    ...store,
    async upsertModel(model, id, payload, options) {
      await new Promise((resolve) => setTimeout(resolve, control.delayMs));
      if (control.fail) throw new StoreUnavailableError('redis');
      await store.upsertModel(model, id, payload, options);
      control.stored.push({ model, at: performance.now() });
    },
  };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const provider = new Provider('http://127.0.0.1', {
    adapter: createOidcAdapter(slowStore, { write: writeWithinRequest }),
    clients: [{ ...CLIENT, grant_types: [...CLIENT.grant_types], response_types: [], redirect_uris: [] }],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'ES256', use: 'sig' }] },
  });
  provider.use(handleErrors(createLogger('silent')));
  provider.use(awaitRequestWrites());
  const saved: number[] = [];
  provider.on('client_credentials.saved', () => saved.push(performance.now()));
  const server: Server = await new Promise((resolve) => {
    const listening = provider.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  const grant = () => fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  return { control, saved, grant, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('request writes', function () {
  let app: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async function () {
    app = await setUp();
  });
  afterEach(async function () {
    await app.close();
  });

  it('lets oidc-provider go on while a save is on its way, and answers only once it is stored', async function () {
    app.control.delayMs = 150;
    const response = await app.grant();
    const answeredAt = performance.now();
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(((await response.json()) as { access_token?: string }).access_token).to.be.a('string');
    const [stored] = app.control.stored;
    expect(stored?.model).to.equal('ClientCredentials');
    // oidc-provider carried on as soon as the save was sent (it reports it saved before the store has it)...
    expect(app.saved[0]).to.be.below(stored!.at);
    // ...and the answer left only after the store had it.
    expect(answeredAt).to.be.at.least(stored!.at);
  });

  it('fails the request, with no token, when a save it sent fails', async function () {
    app.control.fail = true;
    const response = await app.grant();
    expect(response.status).to.equal(503);
    expect(response.headers.get('location')).to.equal(null);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).to.have.property('error', 'temporarily_unavailable');
    expect(body).not.to.have.property('access_token');
  });

  it('simply runs and awaits a write outside any request', async function () {
    let done = false;
    await writeWithinRequest(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done = true;
    });
    expect(done).to.equal(true);
    let caught: unknown;
    await writeWithinRequest(async () => {
      throw new Error('store down');
    }).catch((err: unknown) => (caught = err));
    expect((caught as Error).message).to.equal('store down');
  });
});
