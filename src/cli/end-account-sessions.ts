// `twofold users disable` and `set-password`: end the account's sessions and revoke its grants in the server's Redis,
// when the CLI has the server's Redis settings, and say what came of it.
import type { Config } from '../config.js';
import { OK, type CommandResult } from './command.js';
import type { Output } from './output.js';
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

/** Prints what endAccountSessions did for `command`; a failure to reach Redis fails the command, with what to do. */
export function reportEndedSessions(output: Output, username: string, result: EndAccountSessionsResult, command: 'users disable' | 'users set-password'): CommandResult {
  const disabling = command === 'users disable';
  switch (result.status) {
    case 'ENDED':
      output.out(`${plural(result.sessions, 'session')} ended, ${plural(result.grants, 'grant')} revoked with their tokens.`);
      return OK;
    case 'NO_REDIS':
      output.err(disabling
        ? 'twofold users disable: its sessions and tokens stop working at once, as the server refuses a disabled account, but they '
          + 'are not deleted: REDIS_URL (or REDIS_SENTINELS or REDIS_CLUSTER_NODES) is not set. Run this command again with the server\'s '
          + 'Redis settings and REDIS_PREFIX to end them.'
        : 'twofold users set-password: the sessions signed in with the old password go on: REDIS_URL (or REDIS_SENTINELS or '
          + 'REDIS_CLUSTER_NODES) is not set. Set the password again with the server\'s Redis settings and REDIS_PREFIX to end them.');
      return OK;
    case 'FAILED':
      return {
        status: 'FAILED',
        message: disabling
          ? `twofold users disable: ${username} is disabled, but its sessions could not be ended in Redis (${result.reason}). They `
            + 'stop working at once all the same, as the server refuses a disabled account; run the command again to end them.'
          : `twofold users set-password: the password of ${username} is set, but its sessions could not be ended in Redis (${result.reason}). `
            + 'Run the command again to end them.',
      };
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
