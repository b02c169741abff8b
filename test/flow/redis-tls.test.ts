// Redis over TLS (rediss:): a real server process signs someone in with its sessions and tokens in a TLS-only Redis,
// and says clearly when it does not trust the Redis certificate; the same through Redis Sentinel (across a failover)
// and Redis Cluster over TLS.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createClient, createUser, startTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { startClusterSetup, startSentinelSetup, startTlsRedis, type SentinelSetup, type TlsRedis } from '../helpers/redis-servers.js';
import { discoverClient, signIn } from '../helpers/relying-party.js';
import { freePort } from '../helpers/ports.js';
import { ServerProcess } from '../helpers/server-process.js';
import { within } from '../helpers/within.js';

const PASSWORD = 'redis over tls password 1';
const PREFIX = 'tls-test:';

describe('Redis over TLS (rediss:)', function () {
  this.timeout(120_000);
  let redis: TlsRedis;
  // The test's own app creates the schema, the account and the client; it serves no request.
  let setup: TestApp;
  let dataDir: string;
  const nodes: ServerProcess[] = [];

  async function startNode(extraEnv: Record<string, string>, redisUrl = `rediss://127.0.0.1:${redis.server.port}`): Promise<{ node: ServerProcess; issuer: string }> {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const node = new ServerProcess({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      DATABASE_URL: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
      DATABASE_SCHEMA: setup.config.databaseSchema,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: PREFIX,
      SECRET_KEY: setup.config.secretKey!.toString('hex'),
      DATA_DIR: path.join(dataDir, String(nodes.length)),
      ...extraEnv,
    });
    nodes.push(node);
    await node.waitForLog(/^Twofold is listening/, 60_000);
    return { node, issuer };
  }

  before(async function () {
    redis = await startTlsRedis();
    setup = await startTestApp();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'twofold-tls-'));
  });
  after(async function () {
    await Promise.all(nodes.map((node) => node.kill()));
    await setup?.close();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in with the session, interaction and tokens in Redis over TLS, trusting its CA through NODE_EXTRA_CA_CERTS', async function () {
    const { node, issuer } = await startNode({ NODE_EXTRA_CA_CERTS: redis.caFile });
    await node.waitForLog(/^redis connected/, 10_000);
    expect((await fetch(`${issuer}/readyz`)).status).to.equal(200);
    await createUser(setup, { username: 'tess', password: PASSWORD });
    const rp = await discoverClient(issuer, await createClient(setup));
    const { tokens } = await signIn(new Browser(), rp, 'tess', PASSWORD);
    expect(tokens.access_token).to.be.a('string');

    const keys = (await redis.server.client().keys(`${PREFIX}*`)).map((key) => key.slice(PREFIX.length));
    expect(keys.some((key) => key.startsWith('oidc:Session:')), keys.join(', ')).to.equal(true);
    expect(keys.some((key) => key.startsWith('oidc:AccessToken:')), keys.join(', ')).to.equal(true);
  });

  it('through Redis Sentinel over TLS: signs in on the master the sentinel names, and again after a failover', async function () {
    const password = 'sentinel tls data password';
    const sentinels: SentinelSetup = await startSentinelSetup({ password, sentinelPassword: 'sentinel tls password', tls: true });
    try {
      // The host of REDIS_URL is not used with Sentinel: it gives the password and rediss: (TLS to every node).
      const { node, issuer } = await startNode({
        NODE_EXTRA_CA_CERTS: sentinels.caFile!,
        REDIS_SENTINELS: `127.0.0.1:${sentinels.sentinel.port}`,
        REDIS_SENTINEL_NAME: sentinels.name,
        REDIS_SENTINEL_PASSWORD: 'sentinel tls password',
      }, `rediss://:${encodeURIComponent(password)}@unused.invalid`);
      await node.waitForLog(/^redis connected/, 10_000);
      await createUser(setup, { username: 'sam', password: PASSWORD });
      const rp = await discoverClient(issuer, await createClient(setup));
      expect((await signIn(new Browser(), rp, 'sam', PASSWORD)).tokens.access_token).to.be.a('string');
      expect(await sentinels.master.client().keys(`${PREFIX}oidc:Session:*`)).to.have.length.greaterThan(0);

      await sentinels.synced();
      await sentinels.failover();
      // The sentinel announces the new master over TLS; the server moves there.
      expect(await within(10_000, async () => / name=twofold /.test(String(await sentinels.replica.call('CLIENT', 'LIST')))), 'connected to the promoted replica').to.equal(true);
      expect(await within(5_000, async () => (await fetch(`${issuer}/readyz`)).status === 200), 'ready again').to.equal(true);
      const again = await signIn(new Browser(), rp, 'sam', PASSWORD);
      expect(again.tokens.access_token).to.be.a('string');
      expect(await sentinels.replica.client().keys(`${PREFIX}oidc:AccessToken:*`), 'tokens on the promoted replica').to.have.length.greaterThan(1);
    } finally {
      await sentinels.stop();
    }
  });

  it('through Redis Cluster over TLS: signs in with every key in the one slot of the prefix', async function () {
    const password = 'cluster tls password';
    const cluster = await startClusterSetup({ password, tls: true });
    try {
      const { node, issuer } = await startNode({ NODE_EXTRA_CA_CERTS: cluster.caFile!, REDIS_CLUSTER_NODES: cluster.seeds }, `rediss://:${encodeURIComponent(password)}@unused.invalid`);
      await node.waitForLog(/^redis connected/, 10_000);
      await createUser(setup, { username: 'cleo', password: PASSWORD });
      const rp = await discoverClient(issuer, await createClient(setup));
      expect((await signIn(new Browser(), rp, 'cleo', PASSWORD)).tokens.access_token).to.be.a('string');
      // The prefix becomes a hash tag in Cluster mode: every key is on the node that holds its slot.
      const keys = (await Promise.all(cluster.nodes.map((n) => n.client().keys(`{${PREFIX.slice(0, -1)}}:*`)))).map((found) => found.length);
      expect(keys.filter((count) => count > 0), keys.join(', ')).to.have.length(1);
    } finally {
      await cluster.stop();
    }
  });

  it('without the CA: stays up, answers /readyz 503, and logs that the certificate is not trusted', async function () {
    const { node, issuer } = await startNode({});
    const line = await node.waitForLog(/^redis unreachable/, 10_000);
    expect(String(line['error'])).to.match(/certificate/i);
    const ready = await fetch(`${issuer}/readyz`);
    expect(ready.status).to.equal(503);
    expect(node.child.exitCode).to.equal(null);
  });
});
