// What the CLI does in the servers' Redis when it has their settings: `users disable` and `set-password` end the
// account's sessions and revoke its grants, and changes to clients and accounts are announced to every server.
import type { Config } from '../config.js';
import { OK, type CommandResult } from './command.js';
import type { Output } from './output.js';
import { connectRedis, describeRedis } from '../storage/short-lived/connect-redis.js';
import { createRedisStore } from '../storage/short-lived/redis-store.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import { changeChannel, type ChangeTopic } from '../storage/short-lived/client-changes.js';

export type EndAccountSessionsResult =
  | { status: 'ENDED'; sessions: number; grants: number }
  | { status: 'NO_REDIS' }
  | { status: 'FAILED'; reason: string };

/** What the CLI can reach of the servers: their short-lived store, and the channel that tells them of a change. */
export interface ServerRedis {
  store: ShortLivedStore;
  /** Tells every running server to drop its cached copy of this client or account at once. */
  announce(id: string, topic: ChangeTopic): Promise<void>;
}

export type ServerRedisResult<T> = { status: 'DONE'; value: T } | { status: 'NO_REDIS' } | { status: 'FAILED'; reason: string };

/**
 * Runs `use` on the servers' Redis, under the configured prefix. Without Redis settings there is nothing to reach
 * (a server's in-process store is its own); an unreachable Redis is reported, not thrown, as the change in Postgres
 * is made by then whatever happens here.
 */
export async function withServerRedis<T>(config: Config, use: (redis: ServerRedis) => Promise<T>): Promise<ServerRedisResult<T>> {
  if (!config.redis) return { status: 'NO_REDIS' };
  // No logger: a failure becomes one line of the command's output instead of a JSON log line.
  const client = connectRedis(config.redis, undefined, { connectionName: 'twofold-cli' });
  const store = createRedisStore(client, { prefix: config.redisPrefix });
  const announce = async (id: string, topic: ChangeTopic) => {
    await client.publish(changeChannel(config.redisPrefix, topic), id);
  };
  try {
    return { status: 'DONE', value: await use({ store, announce }) };
  } catch (err) {
    // ioredis's own words for a server that never answered name an option, not the server: say which one it was.
    const neverConnected = client.status !== 'ready' && /max retries per request|Connection is closed|ECONNREFUSED/i.test(String((err as Error)?.message));
    const reason = neverConnected ? `no answer from ${Object.values(describeRedis(config.redis)).join(' ')}` : err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { status: 'FAILED', reason };
  } finally {
    await store.close();
  }
}

/** Revokes every session and grant of the account, and tells the servers its cached copy is stale. */
export async function endAccountSessions(config: Config, accountId: string): Promise<EndAccountSessionsResult> {
  const result = await withServerRedis(config, async ({ store, announce }) => {
    const revoked = await store.revokeByAccountId(accountId);
    await announce(accountId, 'accounts');
    return revoked;
  });
  return result.status === 'DONE' ? { status: 'ENDED', ...result.value } : result;
}

/** How long a running server may serve its cached copy of a client or account that nobody announced (lookup-cache.ts). */
export const SERVER_CACHE_SECONDS = 30;

/**
 * Announces a change to a client or account to every running server, and says on standard error when they could not
 * be told: then they see it within SERVER_CACHE_SECONDS.
 */
export async function announceChange(config: Config, output: Output, id: string, topic: ChangeTopic): Promise<void> {
  const result = await withServerRedis(config, ({ announce }) => announce(id, topic));
  if (result.status === 'DONE') return;
  const why = result.status === 'NO_REDIS' ? 'the server\'s Redis settings are not set here' : `Redis could not be reached (${result.reason})`;
  output.err(`Running servers see this change within ${SERVER_CACHE_SECONDS} seconds, as ${why}.`);
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
