// Recognises "the backing store is down" errors, which the app renders as 503 instead of 500.
import { isDatabaseUnavailable } from './database-errors.js';

/** Which backing store could not be reached. */
export type StoreName = 'redis' | 'postgres';

/** Thrown (or wrapped) by storage code when a backing store cannot be reached or does not answer in time. */
export class StoreUnavailableError extends Error {
  readonly store: StoreName;

  constructor(store: StoreName, options?: { cause?: unknown }) {
    super(`${store} is unavailable`, options);
    this.name = 'StoreUnavailableError';
    this.store = store;
  }
}

// Network-level failures: the process could not reach the server, or lost it mid-command.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
]);

// ioredis (v6) and Redis report an unusable connection or cluster with plain Errors; these are their messages.
const IOREDIS_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'Command aborted due to connection close',
  'connect ETIMEDOUT',
  'Socket timeout.',
  'Command cannot be queued during a connection handoff',
  // Redis Cluster: no node reachable, the cluster down or failing over, a slot moving for too long.
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'Too many Cluster redirections',
  // Sentinel: a master demoted by a failover refuses writes until the client has moved to the new one.
  'READONLY',
  // rate-limiter-flexible, asked to refuse while the connection is down (rejectIfRedisNotReady).
  'Redis connection is not ready',
];

// Names of ioredis error classes that mean the command never got an answer.
const IOREDIS_NAMES = new Set([
  'MaxRetriesPerRequestError', 'ClusterAllFailedError', 'CommandTimeoutDuringMaintenanceError', 'SocketTimeoutDuringMaintenanceError',
]);

/** True when `err` means a store is unreachable (StoreUnavailableError, ioredis or Postgres connection or timeout errors). */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  // Postgres outages often carry no socket code ("Connection terminated unexpectedly", pool timeouts, 57P01).
  if (isDatabaseUnavailable(err)) return true;
  if (!(err instanceof Error)) return false;
  if (IOREDIS_NAMES.has(err.name)) return true;
  if (IOREDIS_MESSAGES.some((message) => err.message.startsWith(message))) return true;
  const { code } = err as { code?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // Node reports a refused dual-stack connect (::1 and 127.0.0.1) as an AggregateError of the attempts.
  if (err instanceof AggregateError) return err.errors.some((inner) => isStoreUnavailable(inner));
  return false;
}
