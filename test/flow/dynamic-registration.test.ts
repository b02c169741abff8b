// Dynamic client registration (RFC 7591) and management (RFC 7592): initial access tokens, validation, storage, use.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Browser } from '../helpers/browser.js';
import { createUser, testRedisUrl } from '../helpers/app.js';
import { signInAsAdmin } from '../helpers/admin.js';
import { openTestDatabase, testDatabaseUrl } from '../helpers/database.js';
import { discoverClient, exchangeCode, isCallback, openLogin, startAuthorization, submitPassword } from '../helpers/relying-party.js';
import { runCli } from '../helpers/run-cli.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { issueInitialAccessToken, tokenReference } from '../../src/clients/issue-initial-access-token.js';
import { REGISTRATION_POLICY } from '../../src/clients/check-registration-metadata.js';

const PASSWORD = 'registration flow password';
const REDIRECT = 'http://127.0.0.1:4101/cb';

interface Registered {
  client_id: string;
  client_secret?: string;
  registration_access_token: string;
  registration_client_uri: string;
  redirect_uris: string[];
}

describe('dynamic client registration', function () {
  this.timeout(90_000);
  // Registration is rate limited per address (registration-limits.test.ts): each test sends from an address of its own.
  const suite = useFlowSuite({ client: false, env: { TRUST_PROXY: 'true' } });
  let address = 0;
  before(async function () {
    await createUser(suite.app, { username: 'dana', password: PASSWORD });
  });
  beforeEach(function () {
    address += 1;
  });
  const from = () => ({ 'x-forwarded-for': `198.51.100.${address}` });

  const register = (metadata: Record<string, unknown>, token?: string) => fetch(`${suite.app.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...from(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(metadata),
  });
  const manage = (client: Registered, token: string, init: { method?: string; body?: unknown; raw?: string } = {}) => {
    const body = init.raw ?? (init.body ? JSON.stringify(init.body) : undefined);
    return fetch(client.registration_client_uri, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...from(), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body } : {}),
    });
  };
  const newToken = async () => (await issueInitialAccessToken(suite.app, '1h', { accountId: null, via: 'cli' })).token;
  const clientCount = async () => (await suite.app.queries.clients.list()).length;
  // Registration events are recorded from oidc-provider's events, which it does not wait for: poll briefly.
  const auditedFor = async (event: string, clientId: string) => {
    for (let tries = 0; tries < 50; tries++) {
      const found = (await suite.app.queries.auditEvents.list({ event, limit: 20 })).find((e) => e.clientId === clientId);
      if (found) return found;
      await sleep(20);
    }
    return undefined;
  };
  const webApp = { client_name: 'Partner app', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };

  /** Asserts an error answer: the status, no-store, and the error code (in WWW-Authenticate for 401s). */
  async function expectError(response: Response, status: number, error?: string): Promise<void> {
    const body = await response.text();
    expect(response.status, body).to.equal(status);
    expect(response.headers.get('cache-control')).to.contain('no-store');
    if (status !== 401) {
      expect(JSON.parse(body)).to.have.property('error', error);
      return;
    }
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).to.match(/^Bearer /);
    if (error) expect(challenge).to.contain(`error="${error}"`);
  }

  it('advertises the registration endpoint', async function () {
    const metadata = (await (await fetch(`${suite.app.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata['registration_endpoint']).to.equal(`${suite.app.issuer}/reg`);
  });

  it('refuses a registration without an initial access token, or with an invalid or expired one (401), creating nothing', async function () {
    await expectError(await register(webApp), 401);
    await expectError(await register(webApp, 'not-a-token-we-issued-0123456789abcdefghijklmno'), 401, 'invalid_token');
    const expired = await new suite.app.provider.InitialAccessToken({ expiresIn: 1, policies: [REGISTRATION_POLICY] }).save();
    await sleep(1_500);
    await expectError(await register(webApp, expired), 401, 'invalid_token');
    expect(await clientCount()).to.equal(0);
    expect(await suite.app.queries.auditEvents.list({ event: 'client.registered', limit: 5 })).to.have.length(0);
  });

  it('registers a client with a valid token (201), once: it is stored in Postgres and can sign people in', async function () {
    const token = await newToken();
    // Stored under its hash, without its value: a copy of Redis holds no usable token.
    expect(await suite.app.storage.shortLived.findModel('InitialAccessToken', token)).to.equal(undefined);
    const response = await register(webApp, token);
    expect(response.status).to.equal(201);
    const client = (await response.json()) as Registered;
    expect(Buffer.from(client.client_secret!, 'base64url')).to.have.length(32);
    expect(client.registration_client_uri).to.equal(`${suite.app.issuer}/reg/${client.client_id}`);
    const stored = await suite.app.queries.clients.findById(client.client_id);
    expect(stored).to.include({ name: 'Partner app', firstParty: false });
    expect(suite.app.clientSecrets.verify(client.client_id, client.client_secret, stored!.secretHash!)).to.equal(true);
    expect(stored?.metadata['redirect_uris']).to.deep.equal([REDIRECT]);

    await expectError(await register({ ...webApp, client_name: 'Again' }, token), 401, 'invalid_token');
    expect(await clientCount()).to.equal(1);
    const event = await auditedFor('client.registered', client.client_id);
    expect(event?.details['via']).to.equal('registration');
    expect(JSON.stringify(event)).not.to.contain(token);

    // A third-party client: the person is asked for consent, then the sign-in completes.
    const rp = await discoverClient(suite.app.issuer, { clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    const browser = new Browser();
    const start = await startAuthorization(rp);
    const consent = await submitPassword(browser, rp, await openLogin(browser, rp, start), 'dana', PASSWORD);
    expect(consent.html).to.contain('Allow Partner app access?');
    const done = await browser.submit(consent, '/confirm', {}, isCallback(rp));
    const tokens = await exchangeCode(rp, done.stoppedAt!, start);
    expect(tokens.claims()?.aud).to.equal(client.client_id);
  });

  it('lets exactly one of two registrations racing with one token through', async function () {
    const token = await newToken();
    const before = await clientCount();
    const statuses = (await Promise.all([register(webApp, token), register(webApp, token)])).map((r) => r.status).sort();
    expect(statuses).to.deep.equal([201, 401]);
    expect(await clientCount()).to.equal(before + 1);
  });

  it('refuses bad metadata (400) without using up the token', async function () {
    const token = await newToken();
    const before = await clientCount();
    await expectError(await register({ ...webApp, redirect_uris: ['http://partner.example/cb'] }, token), 400, 'invalid_redirect_uri');
    await expectError(await register({ ...webApp, redirect_uris: ['https://partner.example/cb#frag'] }, token), 400, 'invalid_redirect_uri');
    await expectError(await register({ ...webApp, redirect_uris: ['https://*.partner.example/cb'] }, token), 400, 'invalid_redirect_uri');
    await expectError(await register({ ...webApp, client_id: 'my-own-id' }, token), 400, 'invalid_client_metadata');
    await expectError(await register({ ...webApp, first_party: true }, token), 400, 'invalid_client_metadata');
    await expectError(await register({ ...webApp, logo_uri: 'https://bank.example/logo.png' }, token), 400, 'invalid_client_metadata');
    await expectError(await register({ ...webApp, grant_types: ['implicit'], response_types: ['id_token'] }, token), 400, 'invalid_client_metadata');
    // A token without Twofold's policy (not one Twofold issues) still meets the same rules when the client is stored.
    const bare = await new suite.app.provider.InitialAccessToken({ expiresIn: 60 }).save();
    await expectError(await register({ ...webApp, redirect_uris: ['http://partner.example/cb'] }, bare), 400, 'invalid_redirect_uri');
    expect(await clientCount()).to.equal(before);
    expect((await register({ ...webApp, redirect_uris: ['https://partner.example/cb'], logo_uri: 'https://partner.example/logo.png' }, token)).status).to.equal(201);
  });

  it('reads a client with its registration access token (RFC 7592), and not with another client\'s', async function () {
    const mine = (await (await register(webApp, await newToken())).json()) as Registered;
    const theirs = (await (await register(webApp, await newToken())).json()) as Registered;
    const read = await manage(mine, mine.registration_access_token);
    expect(read.status).to.equal(200);
    expect(((await read.json()) as Registered).client_id).to.equal(mine.client_id);
    await expectError(await manage(mine, theirs.registration_access_token), 401, 'invalid_token');
    await expectError(await manage(mine, 'made-up-registration-access-token-0123456789abc'), 401, 'invalid_token');
  });

  it('updates a client under the same rules, rotating its registration access token, and deletes it', async function () {
    const client = (await (await register(webApp, await newToken())).json()) as Registered;
    const update = { client_id: client.client_id, ...webApp, redirect_uris: ['http://partner.example/cb'] };
    await expectError(await manage(client, client.registration_access_token, { method: 'PUT', body: update }), 400, 'invalid_redirect_uri');
    const updated = await manage(client, client.registration_access_token, { method: 'PUT', body: { ...update, redirect_uris: ['https://partner.example/cb'] } });
    expect(updated.status).to.equal(200);
    const rotated = (await updated.json()) as Registered;
    expect(rotated.registration_access_token).not.to.equal(client.registration_access_token);
    expect((await suite.app.queries.clients.findById(client.client_id))?.metadata['redirect_uris']).to.deep.equal(['https://partner.example/cb']);
    await expectError(await manage(client, client.registration_access_token), 401, 'invalid_token');

    expect((await manage(client, rotated.registration_access_token, { method: 'DELETE' })).status).to.equal(204);
    expect(await suite.app.queries.clients.findById(client.client_id)).to.equal(undefined);
    expect(await auditedFor('client.updated', client.client_id)).to.not.equal(undefined);
    expect(await auditedFor('client.deleted', client.client_id)).to.not.equal(undefined);
  });

  it('never answers a read or an update with the stored form of the secret; an update may carry the secret itself', async function () {
    const client = (await (await register(webApp, await newToken())).json()) as Registered & { client_secret_expires_at?: number };
    expect(client.client_secret_expires_at).to.equal(0);
    const stored = (await suite.app.queries.clients.findById(client.client_id))!.secretHash!;
    const read = (await (await manage(client, client.registration_access_token)).json()) as Record<string, unknown>;
    expect(read).not.to.have.property('client_secret');
    expect(JSON.stringify(read)).not.to.contain(stored).and.not.to.contain('hmac-sha256');

    // RFC 7592 §2.2: a client_secret in an update must match the secret issued; the stored form is no secret.
    const update = { client_id: client.client_id, ...webApp, client_name: 'Partner app 2' };
    let token = client.registration_access_token;
    for (const wrong of ['not-the-secret', stored]) {
      const refused = await manage(client, token, { method: 'PUT', body: { ...update, client_secret: wrong } });
      await expectError(refused, 400, 'invalid_request');
    }
    const updated = await manage(client, token, { method: 'PUT', body: { ...update, client_secret: client.client_secret } });
    const body = (await updated.json()) as Registered & Record<string, unknown>;
    expect(updated.status, JSON.stringify(body)).to.equal(200);
    expect(body).to.include({ client_name: 'Partner app 2' }).and.not.to.have.property('client_secret');
    token = body.registration_access_token;
    expect((await suite.app.queries.clients.findById(client.client_id))!.secretHash).to.equal(stored);
    await expectError(await manage(client, token, { method: 'PUT', raw: '{"client_id":' }), 400, 'invalid_request');
    // A malformed client id in the path is a client error like any unknown one, never a crash.
    const badPath = await manage({ ...client, registration_client_uri: `${suite.app.issuer}/reg/%E0%A4%A` }, token, { method: 'PUT', body: { ...update, client_secret: client.client_secret } });
    expect(badPath.status).to.be.within(400, 499);

    // A public client that becomes confidential gets a new secret, shown in that answer only, and it works.
    const spa = (await (await register({ ...webApp, token_endpoint_auth_method: 'none' }, await newToken())).json()) as Registered;
    expect(spa).not.to.have.property('client_secret');
    const confidential = await manage(spa, spa.registration_access_token, { method: 'PUT', body: { client_id: spa.client_id, ...webApp, token_endpoint_auth_method: 'client_secret_post' } });
    const issued = (await confidential.json()) as Registered;
    expect(confidential.status, JSON.stringify(issued)).to.equal(200);
    expect(Buffer.from(issued.client_secret!, 'base64url')).to.have.length(32);
    expect(suite.app.clientSecrets.verify(spa.client_id, issued.client_secret, (await suite.app.queries.clients.findById(spa.client_id))!.secretHash!)).to.equal(true);
  });

  it('authenticates a client by its secret, in its registered way only, never by the stored form of it', async function () {
    const machine = { ...webApp, grant_types: ['client_credentials'], response_types: [] };
    const client = (await (await register(machine, await newToken())).json()) as Registered;
    const stored = (await suite.app.queries.clients.findById(client.client_id))!.secretHash!;
    const grant = (auth: 'basic' | 'post', secret: string, as: Registered = client) => fetch(`${suite.app.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth === 'basic' ? { authorization: `Basic ${Buffer.from(`${as.client_id}:${secret}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(auth === 'post' ? { client_id: as.client_id, client_secret: secret } : {}) }),
    });
    const refused = async (response: Response) => {
      expect(response.status).to.equal(401);
      expect(await response.json()).to.have.property('error', 'invalid_client');
    };
    expect((await grant('basic', client.client_secret!)).status).to.equal(200);
    await refused(await grant('basic', stored));
    await refused(await grant('basic', `${client.client_secret}x`));
    // Registered for basic: post is refused even with the right secret (requirement 53).
    await refused(await grant('post', client.client_secret!));

    const poster = (await (await register({ ...machine, token_endpoint_auth_method: 'client_secret_post' }, await newToken())).json()) as Registered;
    expect((await grant('post', poster.client_secret!, poster)).status).to.equal(200);
    await refused(await grant('basic', poster.client_secret!, poster));
    await refused(await grant('post', (await suite.app.queries.clients.findById(poster.client_id))!.secretHash!, poster));
  });

  it('accepts a token issued in the admin console, once', async function () {
    const admin = await signInAsAdmin(suite.app, suite.clock, 'registration-admin');
    const form = await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens`);
    const issued = await admin.browser.submit(form, '/admin/clients/tokens', { expires: '1h' });
    expect(issued.html).to.contain('Store it now; it is not shown again.');
    const token = /id="initial-access-token"[^>]*>([^<]+)</.exec(issued.html)?.[1];
    expect(token).to.be.a('string');
    const [event] = await suite.app.queries.auditEvents.list({ event: 'initial_access_token.issued', limit: 5 });
    expect(event?.actorId).to.equal(admin.account.id);
    expect(JSON.stringify(event)).not.to.contain(token!);
    expect((await register(webApp, token)).status).to.equal(201);
    expect((await register(webApp, token)).status).to.equal(401);
  });

  it('issues a working single-use token from the CLI with REDIS_URL, and explains why not without it', async function () {
    const env = {
      DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: suite.app.config.databaseSchema, SECRET_KEY: suite.app.config.secretKey!.toString('hex'),
      DATA_DIR: suite.app.config.dataDir, ISSUER: suite.app.issuer, REDIS_PREFIX: suite.app.config.redisPrefix,
    };
    const withoutRedis = await runCli(['clients', 'token'], { env });
    expect(withoutRedis.code, withoutRedis.stderr).to.equal(2);
    expect(withoutRedis.stderr).to.contain('REDIS_URL is not set').and.contain('admin console');
    expect(withoutRedis.stdout).to.equal('');

    const run = await runCli(['clients', 'token', '--expires', '1h', '--json'], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(run.code, run.stderr).to.equal(0);
    const { initial_access_token: token, expires_at: expiresAt } = JSON.parse(run.stdout) as { initial_access_token: string; expires_at: string };
    expect(Date.parse(expiresAt) - Date.now()).to.be.within(3_500_000, 3_600_000);
    expect((await register(webApp, token)).status).to.equal(201);
    expect((await register(webApp, token)).status).to.equal(401);
    const bad = await runCli(['clients', 'token', '--expires', '2y'], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(bad.code).to.equal(2);
  });

  it('forgets the tokens issued more than 30 days ago, which it no longer lists, when it issues one', async function () {
    const old = await issueInitialAccessToken(suite.app, '7d', { accountId: null, via: 'cli' });
    const kept = await issueInitialAccessToken(suite.app, '7d', { accountId: null, via: 'cli' });
    const database = await openTestDatabase(suite.app.config.databaseSchema);
    try {
      const age = (days: number) => database.knex.raw(`now() - make_interval(days => ?)`, [days]);
      await database.knex('initial_access_tokens').where('id', 'like', `${old.reference}%`).update({ issued_at: age(31) });
      await database.knex('initial_access_tokens').where('id', 'like', `${kept.reference}%`).update({ issued_at: age(29) });
    } finally {
      await database.close();
    }
    expect(await suite.app.queries.initialAccessTokens.findByReference(old.reference)).to.not.equal(undefined);

    await newToken();
    expect(await suite.app.queries.initialAccessTokens.findByReference(old.reference), 'issued 31 days ago').to.equal(undefined);
    expect(await suite.app.queries.initialAccessTokens.findByReference(kept.reference), 'issued 29 days ago').to.not.equal(undefined);
  });

  it('lists the tokens in the console, revokes an unused one after a confirmation, and shows what became of each', async function () {
    const admin = await signInAsAdmin(suite.app, suite.clock, 'token-revoker');
    const form = await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens`);
    const issuedPage = await admin.browser.submit(form, '/admin/clients/tokens', { expires: '24h' });
    const kept = /id="initial-access-token"[^>]*>([^<]+)</.exec(issuedPage.html)![1]!;
    const keptRef = tokenReference(kept);
    const revokedToken = await newToken();
    const revokedRef = tokenReference(revokedToken);
    const list = await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens`);
    const row = (page: { html: string }, ref: string) => new RegExp(`<tr><td><code>${ref}</code>[\\s\\S]*?</tr>`).exec(page.html)?.[0] ?? '';
    expect(row(list, keptRef)).to.contain('token-revoker').and.contain('Active').and.contain(`/admin/clients/tokens/${keptRef}/revoke`);
    expect(row(list, revokedRef)).to.contain('the CLI').and.contain('Active');
    expect(list.html, 'the list never shows a token').not.to.contain(kept);

    const confirm = await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens/${revokedRef}/revoke`);
    expect(confirm.html).to.contain(`Revoke token ${revokedRef}?`);
    const done = await admin.browser.submit(confirm, `/admin/clients/tokens/${revokedRef}/revoke`, {});
    expect(done.html).to.contain('The token was revoked.');
    expect(row(done, revokedRef)).to.contain('Revoked').and.not.contain('/revoke');
    await expectError(await register(webApp, revokedToken), 401, 'invalid_token');
    const [event] = await suite.app.queries.auditEvents.list({ event: 'initial_access_token.revoked', limit: 1 });
    expect(event?.actorId).to.equal(admin.account.id);
    expect(event?.details).to.deep.equal({ reference: revokedRef, via: 'console' });

    // The other token still works; once used, the list names its client, and it can no longer be revoked.
    const created = await register(webApp, kept);
    expect(created.status).to.equal(201);
    const { client_id: clientId } = (await created.json()) as Registered;
    let used = '';
    for (let tries = 0; tries < 50 && !used.includes(clientId); tries++) {
      used = row(await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens`), keptRef);
      await sleep(20);
    }
    expect(used).to.contain('Used: registered').and.contain(clientId);
    const late = await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens/${keptRef}/revoke`);
    expect(late.html).to.contain('This token can no longer be revoked.');
    const refused = await admin.browser.request(`${suite.app.issuer}/admin/clients/tokens/${keptRef}/revoke`, { form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(late.html)![1]! } });
    expect(refused.status).to.equal(409);
    expect((await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens/AAAAAAAAAAAA/revoke`)).status).to.equal(404);
    expect((await admin.browser.follow(`${suite.app.issuer}/admin/clients/tokens/not-a-ref/revoke`)).status).to.equal(404);
  });

  it('lists and revokes tokens from the CLI, and says what is wrong with a bad reference', async function () {
    const env = {
      DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: suite.app.config.databaseSchema, SECRET_KEY: suite.app.config.secretKey!.toString('hex'),
      DATA_DIR: suite.app.config.dataDir, ISSUER: suite.app.issuer, REDIS_PREFIX: suite.app.config.redisPrefix,
    };
    const token = await newToken();
    const reference = tokenReference(token);
    const listed = await runCli(['clients', 'tokens', '--json'], { env });
    expect(listed.code, listed.stderr).to.equal(0);
    const rows = JSON.parse(listed.stdout) as { reference: string; state: string }[];
    expect(rows.find((r) => r.reference === reference)?.state).to.equal('active');
    expect(listed.stdout).not.to.contain(token);

    const withoutRedis = await runCli(['clients', 'revoke-token', reference], { env });
    expect(withoutRedis.code).to.equal(2);
    expect(withoutRedis.stderr).to.contain('REDIS_URL is not set').and.contain('admin console');
    const malformed = await runCli(['clients', 'revoke-token', 'abc'], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(malformed.code).to.equal(2);
    expect(malformed.stderr).to.contain('"abc" is not a token reference');
    const unknown = await runCli(['clients', 'revoke-token', 'AAAAAAAAAAAA'], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('no initial access token has the reference AAAAAAAAAAAA');

    const revoked = await runCli(['clients', 'revoke-token', reference], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(revoked.stdout).to.contain(`Revoked initial access token ${reference}`);
    await expectError(await register(webApp, token), 401, 'invalid_token');
    const again = await runCli(['clients', 'revoke-token', reference], { env: { ...env, REDIS_URL: testRedisUrl() } });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.contain('it is revoked');
    const active = await runCli(['clients', 'tokens'], { env });
    expect(active.stdout).not.to.contain(reference);
    const all = await runCli(['clients', 'tokens', '--all'], { env });
    expect(all.stdout).to.match(new RegExp(`${reference}\\s+revoked`));
  });
});
