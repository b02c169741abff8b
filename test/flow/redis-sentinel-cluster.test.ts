// Twofold on Redis Sentinel and on Redis Cluster, each a real deployment of redis-server processes: a whole sign-in,
// code exchange, refresh and revocation; a Sentinel failover; two nodes sharing a Cluster, with client changes.
import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Cluster, Redis } from 'ioredis';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { Rotation } from '../helpers/nodes.js';
import { discoverClient, openLogin, signIn, startAuthorization, submitPassword, type RelyingParty } from '../helpers/relying-party.js';
import { startClusterSetup, startSentinelSetup, type ClusterSetup, type RedisProcess, type SentinelSetup } from '../helpers/redis-servers.js';
import { clientCacheOf } from '../../src/oidc/client-cache.js';
import { updateClient } from '../../src/clients/update-client.js';
import { deleteClient } from '../../src/clients/delete-client.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'topologies password 1';
const REDIS_PASSWORD = 'redis pass:word@1';
const SENTINEL_PASSWORD = 'sentinel password';
// With Sentinel or Cluster, REDIS_URL gives only the user, password, database and scheme: its host is not used.
const redisUrl = (database = '') => `redis://:${encodeURIComponent(REDIS_PASSWORD)}@unused.invalid${database}`;

/** Every key under `prefix` in the current database of `redis`. */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The names of the clients connected to a server (CLIENT SETNAME), e.g. twofold and twofold-client-changes. */
async function clientNames(server: RedisProcess): Promise<string[]> {
  const list = String(await server.call('CLIENT', 'LIST'));
  return list.split('\n').map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '').filter(Boolean);
}

/** Signs in with offline_access and returns the tokens; the refresh token is then rotated and replayed by callers. */
async function signInForRefresh(rp: RelyingParty, browser: Browser) {
  return (await signIn(browser, rp, 'alice', PASSWORD, { scope: 'openid offline_access', prompt: 'consent' })).tokens;
}

/** Whether a command given to `redis` waits, corked, for the end of the event loop's round (coalesceWrites). */
async function coalesces(redis: Redis): Promise<boolean> {
  // A Cluster connects to a node at its first command.
  await redis.ping();
  const reply = redis.ping();
  const corked = redis.stream.writableCorked === 1;
  expect(await reply).to.equal('PONG');
  return corked;
}

const refused = (request: Promise<unknown>) => request.then(() => 'accepted', (err: { error?: string }) => err.error ?? String(err));

describe('Redis Sentinel', function () {
  this.timeout(30_000);
  let setup: SentinelSetup;
  let app: TestApp;
  let rp: RelyingParty;

  before(async function () {
    setup = await startSentinelSetup({ password: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    app = await startTestApp({
      REDIS_URL: redisUrl('/2'),
      REDIS_SENTINELS: `127.0.0.1:${setup.sentinel.port}`,
      REDIS_SENTINEL_NAME: setup.name,
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    });
    await createUser(app, { username: 'alice', password: PASSWORD });
    rp = await discoverClient(app.issuer, await createClient(app));
  });
  after(async function () {
    await app?.close();
    await setup?.stop();
  });

  it('signs in, exchanges the code, refreshes and revokes through the master the sentinel names, in database 2', async function () {
    expect(app.config.redis?.mode).to.equal('sentinel');
    const tokens = await signInForRefresh(rp, new Browser());
    const rotated = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(rotated.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    expect(await refused(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)), 'a replayed refresh token').to.equal('invalid_grant');
    expect(await refused(oidc.refreshTokenGrant(rp.config, rotated.refresh_token!)), 'the grant is revoked').to.equal('invalid_grant');

    const fresh = await signInForRefresh(rp, new Browser());
    expect((await oidc.tokenIntrospection(rp.config, fresh.access_token)).active).to.equal(true);
    await oidc.tokenRevocation(rp.config, fresh.access_token);
    expect((await oidc.tokenIntrospection(rp.config, fresh.access_token)).active).to.equal(false);

    const master = setup.master.client();
    await master.select(2);
    expect(await keysUnder(master, app.config.redisPrefix)).to.not.be.empty;
    await master.select(0);
    expect(await keysUnder(master, app.config.redisPrefix)).to.be.empty;
    expect(await clientNames(setup.master)).to.include.members(['twofold', 'twofold-client-changes']);
  });

  it("sends the commands of one round of the event loop in one write to the sentinel's master", async function () {
    expect(await coalesces(app.storage.redis as Redis)).to.equal(true);
  });

  it('moves to the replica the sentinel promotes: tokens issued before still refresh, and sign-ins work', async function () {
    const browser = new Browser();
    const before = await signInForRefresh(rp, browser);
    await setup.synced();
    await setup.failover();
    // The sentinel announces the new master; both connections of the app move there.
    expect(await within(10_000, async () => {
      const names = await clientNames(setup.replica);
      return names.includes('twofold') && names.includes('twofold-client-changes');
    }), 'the app connected to the promoted replica').to.equal(true);
    expect(await within(5_000, async () => (await fetch(`${app.issuer}/readyz`)).status === 200), 'ready again').to.equal(true);

    const rotated = await oidc.refreshTokenGrant(rp.config, before.refresh_token!);
    expect(rotated.refresh_token).to.be.a('string').and.not.equal(before.refresh_token);
    const after = await signInForRefresh(rp, new Browser());
    expect((await oidc.tokenIntrospection(rp.config, after.access_token)).active).to.equal(true);
    const promoted = setup.replica.client();
    await promoted.select(2);
    expect(await keysUnder(promoted, app.config.redisPrefix)).to.not.be.empty;
  });
});

describe('Redis Cluster', function () {
  this.timeout(30_000);
  let cluster: ClusterSetup;
  let a: TestApp;
  let b: TestApp;
  let client: Awaited<ReturnType<typeof createClient>>;
  let rp: RelyingParty;

  before(async function () {
    cluster = await startClusterSetup({ password: REDIS_PASSWORD });
    // One seed is enough: the client learns the other nodes from it.
    const env = { REDIS_URL: redisUrl(), REDIS_CLUSTER_NODES: cluster.seeds.split(',')[0]! };
    a = await startTestApp(env);
    b = await startTestApp(env, { join: a });
    await createUser(a, { username: 'alice', password: PASSWORD });
    client = await createClient(a);
    rp = await discoverClient(a.issuer, client);
  });
  after(async function () {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });

  it('signs in, exchanges the code, refreshes and revokes, alternating between two nodes, with every key in one slot', async function () {
    expect(a.config.redis?.mode).to.equal('cluster');
    expect(a.config.redisPrefix).to.match(/^\{test:[0-9a-f-]+\}:$/);
    const rotation = new Rotation(a.issuer, [a, b]);
    const routed = await discoverClient(a.issuer, client);
    rotation.attach(routed.config);
    const browser = rotation.browser();

    // A wrong password first: attempt limits are kept in the cluster too.
    const wrong = await submitPassword(browser, routed, await openLogin(browser, routed, await startAuthorization(routed)), 'alice', 'not the password');
    expect(wrong.html).to.contain('Log in');
    const tokens = await signInForRefresh(routed, browser);
    const rotated = await oidc.refreshTokenGrant(routed.config, tokens.refresh_token!);
    expect(rotated.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    // The replay revokes the whole grant: a script that follows index keys it reads from the data.
    expect(await refused(oidc.refreshTokenGrant(routed.config, tokens.refresh_token!)), 'a replayed refresh token').to.equal('invalid_grant');
    expect(await refused(oidc.refreshTokenGrant(routed.config, rotated.refresh_token!)), 'the grant is revoked').to.equal('invalid_grant');
    const fresh = await signInForRefresh(routed, rotation.browser());
    await oidc.tokenRevocation(routed.config, fresh.access_token);
    expect((await oidc.tokenIntrospection(routed.config, fresh.access_token)).active).to.equal(false);
    expect(rotation.hits[0]).to.be.greaterThan(5);
    expect(rotation.hits[1]).to.be.greaterThan(5);

    // Sessions, grants, counters and attempt limits: all on one node, all in one slot.
    const perNode = await Promise.all(cluster.nodes.map((node) => keysUnder(node.client(), a.config.redisPrefix)));
    const keys = perNode.flat();
    expect(keys.some((key) => key.includes(':limit:')), 'attempt limits').to.equal(true);
    expect(keys.some((key) => key.includes(':oidc:Session:')), 'sessions').to.equal(true);
    expect(perNode.filter((list) => list.length > 0)).to.have.length(1);
    const slots = new Set(await Promise.all(keys.map((key) => cluster.nodes[0]!.call('CLUSTER', 'KEYSLOT', key))));
    expect([...slots]).to.have.length(1);
  });

  it('sends the commands of one round of the event loop in one write to each Cluster node', async function () {
    const masters = (a.storage.redis as Cluster).nodes('master');
    expect(masters).to.have.length(3);
    for (const node of masters) expect(await coalesces(node)).to.equal(true);
  });

  it('applies a client edited, then deleted with its grants, on node A to node B at once', async function () {
    const other = await createClient(a, { redirectUris: ['http://localhost:3002/callback'] });
    const otherRp = await discoverClient(a.issuer, other);
    const tokens = await signInForRefresh(otherRp, new Browser());
    const cacheB = clientCacheOf(b.provider);
    expect((await cacheB.find(other.clientId))?.redirect_uris).to.deep.equal(['http://localhost:3002/callback']);

    const deps = { queries: a.queries, validateMetadata: (m: Parameters<TestApp['provider']['Client']['validate']>[0]) => a.provider.Client.validate(m), production: false, invalidate: clientCacheOf(a.provider).invalidate };
    const input = { name: 'Edited', redirectUris: ['http://localhost:3003/callback'], postLogoutRedirectUris: [other.postLogoutRedirectUri], public: false, firstParty: true, grantTypes: ['authorization_code' as const, 'refresh_token' as const], scope: 'openid offline_access', authMethod: 'client_secret_basic' as const };
    expect((await updateClient(deps, other.clientId, input)).status).to.equal('UPDATED');
    expect(await within(1_000, async () => (await cacheB.find(other.clientId))?.redirect_uris?.[0] === 'http://localhost:3003/callback'), 'edit seen on B').to.equal(true);

    const deleted = await deleteClient({ ...deps, store: a.storage.shortLived }, other.clientId);
    expect(deleted).to.deep.equal({ status: 'DELETED', grantsRevoked: 1 });
    expect(await within(1_000, async () => (await cacheB.find(other.clientId)) === undefined), 'deletion seen on B').to.equal(true);
    expect(await a.storage.shortLived.findModel('RefreshToken', tokens.refresh_token!)).to.equal(undefined);
  });

  it('ends every session and revokes every grant of an account in one script on node B, made through node A', async function () {
    const browser = new Browser();
    const tokens = await signInForRefresh(rp, browser);
    await signInForRefresh(rp, new Browser());
    const alice = (await a.queries.accounts.findByUsername('alice'))!;
    // Earlier tests of this cluster signed alice in too: at least these two sessions and grants go.
    const revoked = await b.storage.shortLived.revokeByAccountId(alice.id);
    expect(revoked.sessions).to.be.at.least(2);
    expect(revoked.grants).to.be.at.least(2);
    expect(await refused(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!))).to.equal('invalid_grant');
    const silent = await openLogin(browser, rp, await startAuthorization(rp, { prompt: 'none' }));
    expect(new URL(silent.stoppedAt!).searchParams.get('error')).to.equal('login_required');
    expect(await a.storage.shortLived.revokeByAccountId(alice.id)).to.deep.equal({ sessions: 0, grants: 0 });
  });

  it('forgets every cached client when its subscriber loses its node, and hears changes again', async function () {
    const heard = { changed: [] as string[], resets: 0 };
    b.storage.clientChanges!.listen({ changed: (id) => heard.changed.push(id), reset: () => (heard.resets += 1) });
    expect(await within(2_000, () => {
      a.storage.clientChanges!.publish('probe-1');
      return heard.changed.includes('probe-1');
    }), 'subscribed').to.equal(true);

    // Every subscriber connection of the cluster is cut, as when its node goes away.
    await Promise.all(cluster.nodes.map((node) => node.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
    expect(await within(3_000, () => heard.resets >= 1), 'reset after the cut').to.equal(true);
    expect(await within(3_000, () => {
      a.storage.clientChanges!.publish('probe-2');
      return heard.changed.includes('probe-2');
    }), 'hears changes again').to.equal(true);
  });
});
