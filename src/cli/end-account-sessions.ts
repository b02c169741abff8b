// `twofold users disable`: ends the account's sessions and revokes its grants in the server's Redis, when the CLI has
// the server's Redis settings.
import type { Config } from '../config.js';
import { connectRedis } from '../storage/short-lived/connect-redis.js';
import { createRedisStore } from '../storage/short-lived/redis-store.js';

export type EndAccountSessionsResult =
  | { status: 'ENDED'; sessions: number; grants: number }
  | { status: 'NO_REDIS' }
  | { status: 'FAILED'; reason: string };

/**
 * Revokes every session and grant of the account in Redis under the configured prefix. Without Redis settings there
 * is nothing to reach (the server's in-process store is its own); an unreachable Redis is reported, not thrown, as the
 * account is disabled by then whatever happens here.
 */
export async function endAccountSessions(config: Config, accountId: string): Promise<EndAccountSessionsResult> {
  if (!config.redis) return { status: 'NO_REDIS' };
  // No logger: a failure becomes one line of the command's output instead of a JSON log line.
  const store = createRedisStore(connectRedis(config.redis, undefined, { connectionName: 'twofold-cli' }), { prefix: config.redisPrefix });
  try {
    const revoked = await store.revokeByAccountId(accountId);
    return { status: 'ENDED', ...revoked };
  } catch (err) {
    return { status: 'FAILED', reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  } finally {
    await store.close();
  }
}
