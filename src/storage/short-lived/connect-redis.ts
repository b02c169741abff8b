// Opens the production Redis connection to one server, a Sentinel-managed master or a Cluster: fail fast while Redis
// is down, reconnect forever, log outages once.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisAddress, RedisConnection } from '../../config.js';
import { coalesceWrites } from './coalesce-writes.js';

/** A connection made by connectRedis: a Redis for one server or Sentinel, a Cluster for Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The two log methods connectRedis uses (a pino logger fits). */
export interface RedisConnectionLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** What a connection other than the main one is for. */
export interface ConnectionRole {
  /** Names it in the logs and in CLIENT LIST. */
  connectionName?: string;
  /** A connection in subscriber mode can run no other command, and it subscribes by itself. */
  subscriber?: boolean;
}

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Options of every connection to a Redis server (with Cluster, of the connection to each node). */
export const SERVER_OPTIONS = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  // Why: a request waiting on a dead Redis would hold its connection open; a quick error becomes a 503 instead.
  commandTimeout: COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
} as const satisfies RedisOptions;

/** Delay before reconnection attempt `attempt` (1, 2, ...): doubling from 100 ms up to 5 s, and never giving up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 16), MAX_RECONNECT_DELAY_MS);
}

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

const addressList = (addresses: RedisAddress[]) => addresses.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');

/** Where a connection goes, for logs: the URL without its password, or the sentinels and master name, or the cluster's nodes. */
export function describeRedis(connection: RedisConnection): Record<string, string> {
  switch (connection.mode) {
    case 'standalone':
      return { redis: redactRedisUrl(connection.url) };
    case 'sentinel':
      return { redis: 'sentinel', sentinels: addressList(connection.sentinels), master: connection.masterName };
    case 'cluster':
      return { redis: 'cluster', nodes: addressList(connection.nodes) };
  }
}

/** What REDIS_URL gives the data nodes with Sentinel or Cluster: user, password, database and TLS (its host is not used). */
export function dataNodeOptions(url: string | undefined): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  if (!url) return {};
  const parsed = new URL(url);
  const database = parsed.pathname.replace(/^\//, '');
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(database ? { db: Number(database) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Creates a Redis client whose commands fail within ~2 s while Redis is down, and which reconnects by itself: to the
 * server of a URL, to the master the sentinels name (again after a failover), or to a Cluster. `role` adjusts it for
 * another use, e.g. a subscriber connection.
 */
export function connectRedis(url: string, logger?: RedisConnectionLogger, role?: ConnectionRole): Redis;
export function connectRedis(connection: RedisConnection, logger?: RedisConnectionLogger, role?: ConnectionRole): RedisClient;
export function connectRedis(target: string | RedisConnection, logger?: RedisConnectionLogger, role: ConnectionRole = {}): RedisClient {
  const connection: RedisConnection = typeof target === 'string' ? { mode: 'standalone', url: target } : target;
  const client = connection.mode === 'cluster' ? openCluster(connection, role) : openServer(connection, role);
  // The commands of one round of the event loop leave together (coalesceWrites), on every connection it opens.
  if (client instanceof Cluster) client.on('+node', (node: Redis) => coalesceEachConnection(node));
  else coalesceEachConnection(client);

  client.on('ready', () => {
    // The offline queue lets startup commands wait for the first connection; after that, commands issued
    // during an outage fail at once instead of piling up until the command timeout.
    client.options.enableOfflineQueue = false;
  });
  if (client instanceof Cluster) {
    // A Cluster's own queue has no timeout: once a first attempt has failed, fail at once rather than wait for Redis.
    client.on('reconnecting', () => {
      client.options.enableOfflineQueue = false;
    });
  }
  logConnectionState(client, { ...describeRedis(connection), ...(role.connectionName ? { connection: role.connectionName } : {}) }, logger);
  return client;
}

/**
 * Logs when a connection (a Redis, a Cluster, or anything emitting their 'error', 'reconnecting' and 'ready') is
 * lost and when it is back, once each, whatever the number of reconnection attempts in between.
 */
export function logConnectionState(client: EventEmitter, where: Record<string, string>, logger: RedisConnectionLogger | undefined): void {
  let state: 'starting' | 'up' | 'down' = 'starting';
  let lastError: string | undefined;
  const down = () => {
    if (state === 'down') return;
    logger?.warn({ ...where, error: lastError }, state === 'up'
      ? 'redis connection lost; commands fail until it is back'
      : 'redis unreachable; retrying in the background');
    state = 'down';
  };

  // Without an 'error' listener ioredis prints every failed reconnect attempt; remember the last one for the log.
  client.on('error', (err: Error) => {
    lastError = err.message;
    // While no sentinel answers, a Sentinel client keeps trying them without a 'reconnecting' event.
    if (err.message.startsWith('All sentinels are unreachable')) down();
  });
  // A Cluster reports the errors of its nodes apart from its own.
  client.on('node error', (err: Error) => {
    lastError = err.message;
  });
  client.on('reconnecting', down);
  client.on('ready', () => {
    if (state === 'down') logger?.info(where, 'redis connection restored');
    else if (state === 'starting') logger?.info(where, 'redis connected');
    state = 'up';
    lastError = undefined;
  });
}

function roleOptions(role: ConnectionRole): RedisOptions {
  return {
    ...(role.connectionName ? { connectionName: role.connectionName } : {}),
    ...(role.subscriber ? { autoResubscribe: false } : {}),
  };
}

function openServer(connection: Exclude<RedisConnection, { mode: 'cluster' }>, role: ConnectionRole): Redis {
  const options: RedisOptions = {
    ...SERVER_OPTIONS,
    // No auto-pipelining: it builds a pipeline object for every batch, which cost more of the server's CPU than the
    // writes it saved (measured with two servers under the same load: about 5 % more per token grant and login).
    // coalesceWrites batches the writes instead, without an object per batch.
    // Never give up: a delay for every attempt.
    retryStrategy: reconnectDelay,
    ...roleOptions(role),
  };
  if (connection.mode === 'standalone') return new Redis(connection.url, options);
  const node = dataNodeOptions(connection.url);
  return new Redis({
    ...options,
    ...node,
    sentinels: connection.sentinels,
    name: connection.masterName,
    sentinelPassword: connection.sentinelPassword,
    // When no sentinel answers, ask them all again after a delay, forever.
    sentinelRetryStrategy: reconnectDelay,
    sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
    // A failover announced by the sentinels moves the connection to the new master at once, not at the next error.
    failoverDetector: true,
    // A master demoted to a replica refuses writes with READONLY: reconnect, which asks the sentinels again.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
    ...(node.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  });
}

function coalesceEachConnection(client: Redis): void {
  // Each reconnection brings a new socket.
  client.on('connect', () => coalesceWrites(client.stream as Socket));
}

function openCluster(connection: Extract<RedisConnection, { mode: 'cluster' }>, role: ConnectionRole): Cluster {
  // A cluster has only database 0 (the configuration refuses another).
  const { db: _database, ...credentials } = dataNodeOptions(connection.url);
  return new Cluster(connection.nodes.map(({ host, port }) => ({ host, port })), {
    // Never give up on the cluster as a whole: a delay for every attempt.
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    // With TLS, keep the host names the nodes were given by: certificates name hosts, not addresses.
    ...(credentials.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: { ...SERVER_OPTIONS, ...credentials, ...roleOptions(role) },
  });
}
