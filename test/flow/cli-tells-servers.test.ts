// The CLI's changes to clients reach running servers at once through their Redis: a removed client's grants are
// revoked and its cached copy dropped, and a rotated secret stops working on the servers immediately.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { createClient, createUser } from '../helpers/app.js';
import { discoverClient, exchangeCode, startAuthorization, startSignIn } from '../helpers/relying-party.js';
import { useAppCli } from '../helpers/run-cli.js';
import { useFlowSuite } from '../helpers/flow-suite.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'cli tells servers 1';

describe('CLI changes seen by running servers at once', function () {
  this.timeout(60_000);
  const suite = useFlowSuite();
  const { cli, serversRedis } = useAppCli(() => suite.app);
  const tokenRequest = (clientId: string, secret: string) => fetch(`${suite.app.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });

  it('clients remove: revokes the grants with their tokens, and the servers forget the client without waiting for their cache', async function () {
    const client = await createClient(suite.app, { redirectUris: ['http://localhost:3001/removed'] });
    const rp = await discoverClient(suite.app.issuer, client);
    await createUser(suite.app, { username: 'cli-removed', password: PASSWORD });
    const { start, page } = await startSignIn(rp, 'cli-removed', PASSWORD, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(rp, page.stoppedAt!, start);
    expect(tokens.refresh_token).to.be.a('string');

    const run = await cli(['clients', 'remove', client.clientId], serversRedis());
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(`Removed client ${client.clientId}.\n1 grant revoked with their tokens.\n`);
    expect(await suite.app.storage.shortLived.findModel('RefreshToken', tokens.refresh_token!), 'the refresh token is gone').to.equal(undefined);
    // The server had the client cached (30 s) from the sign-in; the announcement drops it at once.
    const authorize = async () => (await fetch((await startAuthorization(rp)).url, { redirect: 'manual' })).status;
    expect(await within(1000, async () => (await authorize()) === 400), 'an authorization request names an unknown client').to.equal(true);
    const refused = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).then(() => 'accepted', (err: { status?: number }) => err.status);
    expect(refused, 'the token endpoint no longer knows the client').to.equal(401);
    const [event] = await suite.app.queries.auditEvents.list({ event: 'client.deleted', limit: 5 });
    expect(event?.details).to.deep.include({ tokensRevoked: true, grantsRevoked: 1 });
  });

  it('clients rotate-secret: the old secret stops working on the servers at once; without Redis it says when they see it', async function () {
    const client = await createClient(suite.app, { grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [] });
    expect((await tokenRequest(client.clientId, client.clientSecret!)).status, 'the server caches the client').to.equal(200);

    const run = await cli(['clients', 'rotate-secret', client.clientId, '--json'], serversRedis());
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('');
    const rotated = JSON.parse(run.stdout) as { client_secret: string };
    expect(await within(1000, async () => (await tokenRequest(client.clientId, client.clientSecret!)).status === 401), 'the old secret is refused').to.equal(true);
    expect((await tokenRequest(client.clientId, rotated.client_secret)).status).to.equal(200);

    const offline = await cli(['clients', 'rotate-secret', client.clientId]);
    expect(offline.code, offline.stderr).to.equal(0);
    expect(offline.stderr).to.contain('Running servers see this change within 30 seconds, as the server\'s Redis settings are not set here.');
    const unreachable = await cli(['clients', 'rotate-secret', client.clientId], { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: suite.app.config.redisPrefix });
    expect(unreachable.code, unreachable.stderr).to.equal(0);
    expect(unreachable.stderr).to.contain('as Redis could not be reached (no answer from redis://127.0.0.1:1)');
  });
});
