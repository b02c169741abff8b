// Client changes between nodes through Redis pub/sub: delivered to every node on the prefix, and a reset after a reconnect.
import { expect } from 'chai';
import { createRedisClientChanges, type ClientChanges } from '../../src/storage/short-lived/client-changes.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { within } from '../helpers/within.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = { warn() {}, info() {} };

describe('client changes through Redis pub/sub', function () {
  let redis: TestRedis;
  let proxy: FaultProxy | undefined;
  const opened: ClientChanges[] = [];
  const open = (prefix: string, through = url) => {
    const changes = createRedisClientChanges({ connection: { mode: 'standalone', url: through }, publisher: redis.redis, prefix, logger: quiet });
    opened.push(changes);
    const heard = { changed: [] as string[], resets: 0 };
    changes.listen({ changed: (id) => heard.changed.push(id), reset: () => (heard.resets += 1) });
    return { changes, heard };
  };
  // Subscribing is asynchronous: publish a probe until it comes back.
  const subscribed = (node: ReturnType<typeof open>) => within(3_000, () => {
    node.changes.publish('probe');
    return node.heard.changed.includes('probe');
  });

  beforeEach(async function () {
    redis = await createTestRedis();
  });
  afterEach(async function () {
    await Promise.all(opened.splice(0).map((changes) => changes.close()));
    await proxy?.close();
    proxy = undefined;
    await redis.cleanup();
  });

  it('tells every node on the same prefix, the publisher included, and no node on another prefix', async function () {
    const a = open(redis.prefix);
    const b = open(redis.prefix);
    const elsewhere = open(`${redis.prefix}other:`);
    expect(await subscribed(a)).to.equal(true);
    expect(await subscribed(b)).to.equal(true);
    expect(await subscribed(elsewhere)).to.equal(true);
    a.changes.publish('client-1');
    expect(await within(1_000, () => b.heard.changed.includes('client-1') && a.heard.changed.includes('client-1'))).to.equal(true);
    expect(elsewhere.heard.changed).not.to.include('client-1');
    expect(b.heard.resets).to.equal(0);
  });

  it('asks to forget every client once the subscriber is back from an outage, and hears changes again', async function () {
    proxy = await startFaultProxy({ host: new URL(url).hostname, port: Number(new URL(url).port || 6379) });
    const node = open(redis.prefix, proxy.urlFor(url));
    expect(await subscribed(node)).to.equal(true);
    proxy.cut('reset');
    node.changes.publish('missed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(node.heard.resets).to.equal(0);
    proxy.restore();
    expect(await within(5_000, () => node.heard.resets === 1), 'reset after reconnect').to.equal(true);
    node.changes.publish('client-2');
    expect(await within(1_000, () => node.heard.changed.includes('client-2'))).to.equal(true);
  });

  it('does not throw when publishing fails', async function () {
    const node = open(redis.prefix);
    redis.redis.disconnect();
    expect(() => node.changes.publish('client-3')).not.to.throw();
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
