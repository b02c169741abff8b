// Test access to the real Redis: a fresh key prefix per run, removed afterwards; unreachable Redis fails the suite.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactRedisUrl } from '../../src/storage/short-lived/connect-redis.js';

/** A Redis connection plus the key prefix the test owns. */
export interface TestRedis {
  /** A connected client for the code under test (a store may take it over and quit it). */
  redis: Redis;
  /** A new `test:<uuid>:` prefix: the test only writes keys under it. */
  prefix: string;
  /** Opens another connection to the same server, closed by cleanup() unless closed before. */
  connect(): Promise<Redis>;
  /** Deletes every key under the prefix and closes the connections. */
  cleanup(): Promise<void>;
}

async function open(url: string): Promise<Redis> {
  // No retries and no offline queue: a missing Redis must fail the suite at once, not make it hang or skip.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(`These tests need Redis at ${redactRedisUrl(url)} (set REDIS_URL); it is unreachable`, { cause: err });
  }
}

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Deletes every key under `prefix` on the Redis at `url` (test and bench clean-up). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await deleteByPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Connects to REDIS_URL (default redis://127.0.0.1:6379) and reserves a fresh key prefix. */
export async function createTestRedis(): Promise<TestRedis> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `test:${randomUUID()}:`;
  const admin = await open(url);
  const clients: Redis[] = [];
  const connect = async () => {
    const client = await open(url);
    clients.push(client);
    return client;
  };
  const redis = await connect();
  return {
    redis,
    prefix,
    connect,
    async cleanup() {
      await deleteByPrefix(admin, prefix);
      for (const client of [...clients, admin]) {
        if (client.status !== 'end') client.disconnect();
      }
    },
  };
}
