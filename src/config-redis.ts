// The Redis settings of the configuration: host:port lists, which combinations make sense, and the Cluster hash tag.

/** host and port of a Redis server, sentinel or cluster node. */
export interface RedisAddress {
  host: string;
  port: number;
}

/**
 * How Twofold reaches Redis: one server (REDIS_URL), a master found through Sentinel, or a Cluster. With Sentinel
 * and Cluster, `url` (REDIS_URL, optional) gives only the user, password, database and TLS (rediss:) of the data nodes.
 */
export type RedisConnection =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: RedisAddress[]; masterName: string; sentinelPassword: string | undefined; url: string | undefined }
  | { mode: 'cluster'; nodes: RedisAddress[]; url: string | undefined };

/** Parses "host:port,host:port" (port optional, IPv6 in brackets) into addresses, or returns what is wrong. */
export function parseRedisAddresses(value: string, defaultPort: number): RedisAddress[] | string {
  const addresses: RedisAddress[] = [];
  for (const item of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(item);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match || port < 1 || port > 65535) return `"${item}" is not host:port (e.g. 10.0.0.5:${defaultPort})`;
    addresses.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return addresses.length ? addresses : `must list at least one host:port, e.g. 10.0.0.5:${defaultPort},10.0.0.6:${defaultPort}`;
}

/**
 * What is wrong with the Redis variables taken together (`given` tells whether one is set; `redisUrl` is REDIS_URL).
 * Sentinel and Cluster each need their own settings: a mix that would leave a setting silently unused is refused.
 */
export function redisCombinationProblems(given: (key: string) => boolean, redisUrl: string | undefined): string[] {
  const problems: string[] = [];
  if (given('REDIS_SENTINELS') && given('REDIS_CLUSTER_NODES')) {
    problems.push('REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS; set REDIS_SENTINELS for Redis Sentinel or REDIS_CLUSTER_NODES for Redis Cluster');
  }
  if (given('REDIS_SENTINELS') && !given('REDIS_SENTINEL_NAME')) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name the sentinels monitor, as in "sentinel monitor <name> ...")');
  }
  for (const key of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD']) {
    if (given(key) && !given('REDIS_SENTINELS')) problems.push(`${key}: only used with REDIS_SENTINELS (the sentinels' host:port list); set that too, or remove ${key}`);
  }
  if (given('REDIS_CLUSTER_NODES') && redisUrl !== undefined && URL.canParse(redisUrl)) {
    const database = new URL(redisUrl).pathname.replace(/^\//, '');
    if (database !== '' && Number(database) !== 0) problems.push(`REDIS_URL: a Redis Cluster has only database 0; remove "/${database}" or use /0`);
  }
  return problems;
}

/**
 * Wraps a key prefix in a Redis Cluster hash tag: `twofold:` becomes `{twofold}:`. Only the part in braces decides a
 * key's slot, so every key of Twofold lands in one slot, where its scripts and transactions may touch several keys.
 * A prefix that has a hash tag already (a non-empty `{...}`, as Redis reads it) is kept.
 */
export function hashTagged(prefix: string): string {
  const open = prefix.indexOf('{');
  if (open >= 0 && prefix.indexOf('}', open + 1) > open + 1) return prefix;
  return prefix.endsWith(':') && prefix.length > 1 ? `{${prefix.slice(0, -1)}}:` : `{${prefix}}`;
}
