// A token read within a request brings its session and grant along, and oidc-provider's next reads of them are
// answered from that, once each.
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Provider from 'oidc-provider';
import { readAheadWithinRequest } from '../../src/oidc/request-reads.js';
import { createOidcAdapter } from '../../src/storage/oidc-adapter.js';
import { createMemoryStore } from '../../src/storage/short-lived/memory-store.js';
import type { ShortLivedStore } from '../../src/storage/short-lived/short-lived-store.js';

const CLIENT = { client_id: 'app', client_secret: 'an app secret that is long enough', redirect_uris: ['https://app.example/cb'] };

/** A provider on an in-process store that counts its reads, serving userinfo for an access token bound to a session. */
async function setUp(options: { readAhead: boolean }) {
  const store = createMemoryStore();
  const reads: string[] = [];
  const counting: ShortLivedStore = {
    ...store,
    findModel: (model, id) => (reads.push(`findModel ${model}`), store.findModel(model, id)),
    findModelByUid: (model, uid) => (reads.push(`findModelByUid ${model}`), store.findModelByUid(model, uid)),
    findModelWithRelated: (model, id) => (reads.push(`findModelWithRelated ${model}`), store.findModelWithRelated(model, id)),
  };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const provider = new Provider('http://127.0.0.1', {
    adapter: createOidcAdapter(counting, options.readAhead ? { readAhead: readAheadWithinRequest } : {}),
    clients: [{ ...CLIENT, id_token_signed_response_alg: 'ES256' }],
    features: { devInteractions: { enabled: false } },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'ES256', use: 'sig' }] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  });
  const client = (await provider.Client.find('app'))!;
  const grant = new provider.Grant({ accountId: 'alice', clientId: 'app' });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  const [sessionId, sessionUid] = [randomUUID(), randomUUID()];
  await store.upsertModel('Session', sessionId, { jti: sessionId, uid: sessionUid, accountId: 'alice', authorizations: { app: { grantId } } }, { expiresIn: 600, uid: sessionUid });
  const token = await new provider.AccessToken({ accountId: 'alice', client, grantId, gty: 'authorization_code', scope: 'openid', expiresWithSession: true, sessionUid }).save();
  const server: Server = await new Promise((resolve) => {
    const listening = provider.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const verifier = randomBytes(32).toString('base64url');
  const code = await new provider.AuthorizationCode({
    accountId: 'alice', client, grantId, gty: 'authorization_code', redirectUri: CLIENT.redirect_uris[0], scope: 'openid',
    expiresWithSession: true, sessionUid, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), codeChallengeMethod: 'S256',
  }).save();
  reads.length = 0;
  return {
    store, reads, grantId, sessionId,
    userinfo: () => fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }),
    exchange: () => fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirect_uris[0]!, code_verifier: verifier }).toString(),
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('request reads', function () {
  let app: Awaited<ReturnType<typeof setUp>> | undefined;
  afterEach(async function () {
    await app?.close();
    app = undefined;
  });

  it('reads the access token, its session and its grant in one read at userinfo', async function () {
    app = await setUp({ readAhead: true });
    const response = await app.userinfo();
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(await response.json()).to.deep.equal({ sub: 'alice' });
    expect(app.reads).to.deep.equal(['findModelWithRelated AccessToken']);
  });

  it('reads the code, its session and its grant in one read at the token exchange', async function () {
    app = await setUp({ readAhead: true });
    const response = await app.exchange();
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(await response.json()).to.include.keys('access_token', 'id_token');
    expect(app.reads).to.deep.equal(['findModelWithRelated AuthorizationCode']);
  });

  it('makes three reads, one after the other, without it', async function () {
    app = await setUp({ readAhead: false });
    const response = await app.userinfo();
    expect(response.status).to.equal(200);
    expect(app.reads).to.deep.equal(['findModel AccessToken', 'findModelByUid Session', 'findModel Grant']);
  });

  it('answers from what the store holds: a token whose session has ended is refused', async function () {
    app = await setUp({ readAhead: true });
    await app.store.destroyModel('Session', app.sessionId);
    const response = await app.userinfo();
    expect(response.status).to.equal(401);
    const again = await app.userinfo();
    expect(again.status, 'nothing is kept from one request to the next').to.equal(401);
  });

  it('answers from what the store holds: a token whose grant is gone is refused', async function () {
    app = await setUp({ readAhead: true });
    await app.store.destroyModel('Grant', app.grantId);
    expect((await app.userinfo()).status).to.equal(401);
  });

  it('keeps nothing outside a request', function () {
    expect(readAheadWithinRequest.active()).to.equal(false);
    readAheadWithinRequest.keep('Grant', 'g', { kept: true });
    expect(readAheadWithinRequest.take('Grant', 'g')).to.deep.equal({ found: false });
  });
});
