// Opens the production Redis connection: fail fast while Redis is down, reconnect forever, log outages once.
import { Redis, type RedisOptions } from 'ioredis';

/** The two log methods connectRedis uses (a pino logger fits). */
export interface RedisConnectionLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Returns the URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString();
  } catch {
    return '[unparseable redis url]';
  }
}

/**
 * Creates a Redis client whose commands fail within ~2 s while Redis is down, and which reconnects by itself;
 * `overrides` adjusts it for another use (e.g. a subscriber connection, named in the logs by connectionName).
 */
export function connectRedis(url: string, logger?: RedisConnectionLogger, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Why: a request waiting on a dead Redis would hold its connection open; a quick error becomes a 503 instead.
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Commands issued in the same tick go out as one pipeline: a login makes dozens of small Redis calls.
    enableAutoPipelining: true,
    // Never give up: return a delay for every attempt, doubling from 100 ms up to the cap.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt - 1, 16), MAX_RECONNECT_DELAY_MS),
    ...overrides,
  });

  const where = { redis: redactRedisUrl(url), ...(overrides.connectionName ? { connection: overrides.connectionName } : {}) };
  let state: 'starting' | 'up' | 'down' = 'starting';
  let lastError: string | undefined;

  // Without an 'error' listener ioredis prints every failed reconnect attempt; remember the last one for the log.
  redis.on('error', (err: Error) => {
    lastError = err.message;
  });

  redis.on('reconnecting', () => {
    if (state === 'down') return;
    logger?.warn({ ...where, error: lastError }, state === 'up'
      ? 'redis connection lost; commands fail until it is back'
      : 'redis unreachable; retrying in the background');
    state = 'down';
  });

  redis.on('ready', () => {
    // The offline queue lets startup commands wait for the first connection; after that, commands issued
    // during an outage fail at once instead of piling up until the command timeout.
    redis.options.enableOfflineQueue = false;
    if (state === 'down') logger?.info(where, 'redis connection restored');
    else if (state === 'starting') logger?.info(where, 'redis connected');
    state = 'up';
    lastError = undefined;
  });

  return redis;
}
