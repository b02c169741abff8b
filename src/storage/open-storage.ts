// Opens every store Twofold uses: Postgres (or the embedded one) with migrations, and Redis (or in-process).
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createClientSecretHasher } from '../security/client-secrets.js';
import { createCipher } from '../security/encryption.js';
import { openDatabase, pingDatabase } from './database.js';
import { runMigrations } from './migrate.js';
import { createQueries, type Queries } from './queries.js';
import { createRedisClientChanges, type ClientChanges } from './short-lived/client-changes.js';
import { connectRedis, type RedisClient } from './short-lived/connect-redis.js';
import { createMemoryStore } from './short-lived/memory-store.js';
import { createRedisStore } from './short-lived/redis-store.js';
import type { ShortLivedStore } from './short-lived/short-lived-store.js';

export interface Storage {
  databaseKind: 'postgres' | 'embedded';
  queries: Queries;
  shortLived: ShortLivedStore;
  /** The main Redis connection (one server, Sentinel or Cluster), or undefined for the in-process store. */
  redis: RedisClient | undefined;
  /** Client changes shared between nodes through Redis; without Redis there is one process and nothing to share. */
  clientChanges: ClientChanges | undefined;
  probes: Record<string, () => Promise<void>>;
  close(): Promise<void>;
}

/** Opens Postgres (running migrations) and the short-lived store, as the configuration says. */
export async function openStorage(options: { config: Config; logger: Logger; secretKey: Buffer; mode: 'server' | 'client' }): Promise<Storage> {
  const { config, logger } = options;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, dataDir: config.dataDir, logger, mode: options.mode, pool: config.databasePool });
  try {
    await runMigrations(database.knex);
  } catch (err) {
    await database.close();
    throw err;
  }
  // Named, like the subscriber, so that CLIENT LIST on a Redis server shows which connections are Twofold's.
  const redis = config.redis ? connectRedis(config.redis, logger, { connectionName: 'twofold' }) : undefined;
  const clientChanges = redis && config.redis && options.mode === 'server' ? createRedisClientChanges({ connection: config.redis, publisher: redis, prefix: config.redisPrefix, logger }) : undefined;
  const shortLived = redis ? createRedisStore(redis, { prefix: config.redisPrefix }) : createMemoryStore();
  return {
    databaseKind: database.kind,
    queries: createQueries(database.knex, createCipher(options.secretKey), createClientSecretHasher(options.secretKey)),
    shortLived,
    redis,
    clientChanges,
    probes: {
      postgres: () => pingDatabase(database.knex),
      redis: () => shortLived.ping(),
    },
    async close() {
      await Promise.allSettled([clientChanges?.close(), shortLived.close(), database.close()]);
    },
  };
}
