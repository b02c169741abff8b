// Rate limits on dynamic registration (RFC 7591) and management (RFC 7592): per address, refused ones counted, on every node.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { startTestApp } from '../helpers/app.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { within } from '../helpers/within.js';
import { issueInitialAccessToken } from '../../src/clients/issue-initial-access-token.js';
import { REGISTRATION_LIMITS } from '../../src/security/attempt-limits.js';

const webApp = { client_name: 'Partner app', redirect_uris: ['http://127.0.0.1:4101/cb'], grant_types: ['authorization_code'], response_types: ['code'] };

interface Registered {
  client_id: string;
  registration_access_token: string;
  registration_client_uri: string;
}

describe('dynamic registration limits', function () {
  this.timeout(30_000);
  // Behind a trusted proxy, each test chooses the address it sends from.
  const suite = useFlowSuite({ client: false, env: { TRUST_PROXY: 'true' } });

  const register = (address: string, token?: string, issuer = suite.app.issuer) => fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(webApp),
  });
  const read = (address: string, client: Registered, token: string) => fetch(client.registration_client_uri, {
    headers: { 'x-forwarded-for': address, authorization: `Bearer ${token}` },
  });
  const newToken = async () => (await issueInitialAccessToken(suite.app, '1h', { accountId: null, via: 'cli' })).token;
  const refusedRegistrations = async () => (await suite.app.queries.auditEvents.list({ event: 'registration.refused', limit: 100 })).length;

  /** Asserts the answer over the limit: 429, Retry-After within the lock, no-store and an OAuth error in JSON. */
  async function expectLimited(response: Response, lockSeconds: number): Promise<void> {
    const text = await response.text();
    expect(response.status, text).to.equal(429);
    expect(Number(response.headers.get('retry-after'))).to.be.within(lockSeconds - 60, lockSeconds);
    expect(response.headers.get('cache-control')).to.equal('no-store');
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).to.deep.equal(['error', 'error_description']);
    expect(body['error']).to.equal('temporarily_unavailable');
    expect(body['error_description']).to.match(/^too many registration requests from this address/);
  }

  it('refuses registrations from an address over the limit with 429, counting those refused for a bad or missing token', async function () {
    const { allowed, lockSeconds } = REGISTRATION_LIMITS.create;
    const audited = await refusedRegistrations();
    for (let i = 0; i < allowed; i++) {
      const response = await register('203.0.113.1', i % 2 ? `made-up-initial-access-token-${i}-0123456789abcdef` : undefined);
      expect(response.status, `attempt ${i + 1}`).to.equal(401);
    }
    // Even with a valid token, the next one is refused before the token is looked at: it stays unused.
    const token = await newToken();
    await expectLimited(await register('203.0.113.1', token), lockSeconds);
    await expectLimited(await register('203.0.113.1'), lockSeconds);
    // Another address is not affected, and the token still registers its one client.
    expect((await register('203.0.113.2', token)).status).to.equal(201);
    // Refusals over the limit write nothing to the audit log (registration.refused is recorded after the answer).
    expect(await within(3_000, async () => (await refusedRegistrations()) >= audited + allowed)).to.equal(true);
    await sleep(100);
    expect(await refusedRegistrations()).to.equal(audited + allowed);
  });

  it('limits registration management (RFC 7592) per address too', async function () {
    const { allowed, lockSeconds } = REGISTRATION_LIMITS.manage;
    const created = await register('203.0.113.10', await newToken());
    expect(created.status).to.equal(201);
    const client = (await created.json()) as Registered;
    for (let i = 0; i < allowed; i++) {
      expect((await read('203.0.113.11', client, `made-up-registration-access-token-${i}-0123456789abc`)).status, `attempt ${i + 1}`).to.equal(401);
    }
    await expectLimited(await read('203.0.113.11', client, client.registration_access_token), lockSeconds);
    const remove = await fetch(client.registration_client_uri, { method: 'DELETE', headers: { 'x-forwarded-for': '203.0.113.11', authorization: `Bearer ${client.registration_access_token}` } });
    await expectLimited(remove, lockSeconds);
    // The client itself, from its own address, still manages its registration.
    expect((await read('203.0.113.10', client, client.registration_access_token)).status).to.equal(200);
  });

  it('counts the attempts of one address on every node', async function () {
    const { allowed, lockSeconds } = REGISTRATION_LIMITS.create;
    const other = await startTestApp({ TRUST_PROXY: 'true' }, { join: suite.app });
    try {
      for (let i = 0; i < allowed; i++) {
        expect((await register('203.0.113.20', undefined, i % 2 ? other.issuer : suite.app.issuer)).status, `attempt ${i + 1}`).to.equal(401);
      }
      await expectLimited(await register('203.0.113.20', undefined, other.issuer), lockSeconds);
      await expectLimited(await register('203.0.113.20', undefined, suite.app.issuer), lockSeconds);
    } finally {
      await other.close();
    }
  });
});
