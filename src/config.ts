// Reads the environment once, validates every key, and returns one frozen Config.
import path from 'node:path';
import { z } from 'zod';
import { hashTagged, redisCombinationProblems, type RedisConnection } from './config-redis.js';
import { boolean, duration, integer, optionalDuration, optionalText, redisAddresses, redisUrl, url } from './config-fields.js';

export type { RedisAddress, RedisConnection } from './config-redis.js';
export { parseDuration } from './config-fields.js';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Lifetimes in seconds of everything the provider issues. */
export interface Lifetimes {
  /** Absolute: from the login, whatever the use. */
  session: number;
  /** Inactivity: a session unused this long ends; each use extends it, never past `session` from the login. */
  sessionIdle: number;
  interaction: number;
  authorizationCode: number;
  accessToken: number;
  idToken: number;
  refreshToken: number;
  grant: number;
}

/** Size of the Postgres connection pool of one process. */
export interface DatabasePool {
  min: number;
  max: number;
}

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  issuer: string;
  databaseUrl: string | undefined;
  databaseSchema: string;
  /** Postgres only; the embedded database has its own. */
  databasePool: DatabasePool;
  /** Undefined: the in-process store (development). */
  redis: RedisConnection | undefined;
  /** Prefix of every Redis key and channel; with Cluster, wrapped in a hash tag (`{twofold}:`) so all share one slot. */
  redisPrefix: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  dataDir: string;
  /** 32-byte key for encryption at rest; undefined means "generate into DATA_DIR" (development only). */
  secretKey: Buffer | undefined;
  trustProxy: boolean;
  logLevel: LogLevel;
  /** Issuer name shown in authenticator apps next to the account. */
  totpIssuer: string;
  lifetimes: Lifetimes;
  /** Where /metrics (Prometheus) is served, apart from the public port; undefined: no metrics. */
  metrics: { host: string; port: number } | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function toPort(value: string, ctx: z.RefinementCtx): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `must be a port number from 1 to 65535, got "${value}"` });
    return z.NEVER;
  }
  return port;
}

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { message: 'must be development, production or test' }).default('development'),
  PORT: z.string().default('3000').transform(toPort),
  HOST: z.string().min(1).default('0.0.0.0'),
  // Off unless set. Its own port, on loopback by default: the metrics are for the operator, not the internet.
  METRICS_PORT: optionalText().pipe(z.string().optional().transform((value, ctx) => (value === undefined ? undefined : toPort(value, ctx)))),
  METRICS_HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  ISSUER: url(['http:', 'https:'], 'http(s)'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)')
    .default('public'),
  DATABASE_POOL_MAX: integer(10, 1, 1000),
  DATABASE_POOL_MIN: integer(0, 0, 1000),
  REDIS_URL: redisUrl,
  REDIS_SENTINELS: redisAddresses(26379),
  // sentinel.conf allows only these characters in a master name.
  REDIS_SENTINEL_NAME: optionalText().pipe(z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be the master group name the sentinels monitor (letters, digits, . _ -)').optional()),
  REDIS_SENTINEL_PASSWORD: optionalText(),
  REDIS_CLUSTER_NODES: redisAddresses(6379),
  REDIS_PREFIX: z.string().regex(/^[\w:.{}-]{1,64}$/, 'must be 1-64 of letters, digits, _ : . - { }').default('twofold:'),
  SMTP_URL: url(['smtp:', 'smtps:'], 'smtp'),
  MAIL_FROM: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/, 'must be an email address, e.g. "Twofold <no-reply@example.com>"').default('Twofold <no-reply@localhost>'),
  DATA_DIR: z.string().min(1).default('./data'),
  SECRET_KEY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const key = decodeKey(value);
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'must be 32 random bytes, as 64 hex characters or base64 (try: openssl rand -hex 32)' });
        return z.NEVER;
      }
      return key;
    }),
  TRUST_PROXY: boolean(false),
  TOTP_ISSUER: z.string().trim().min(1, 'must not be empty').max(64, 'at most 64 characters').regex(/^[^:]+$/, 'must not contain ":"').default('Twofold'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  // Lifetimes for an identity provider of privileged users: short sessions, short codes, bounded refresh.
  SESSION_TTL: duration('8h', 300, 86400),
  // At most 1 hour without use (NIST SP 800-63B rev4 §2.2.3, AAL2); the default is rev3's 30 minutes.
  SESSION_IDLE_TTL: optionalDuration(60, 3600),
  INTERACTION_TTL: duration('30m', 60, 3600),
  AUTHORIZATION_CODE_TTL: duration('60s', 10, 600),
  ACCESS_TOKEN_TTL: duration('10m', 60, 86400),
  ID_TOKEN_TTL: duration('10m', 60, 86400),
  REFRESH_TOKEN_TTL: duration('8h', 300, 30 * 86400),
  GRANT_TTL: duration('8h', 300, 30 * 86400),
});

/** SESSION_IDLE_TTL when unset: 30 minutes (NIST SP 800-63B rev3 §4.2.3, AAL2), or SESSION_TTL if that is shorter. */
const DEFAULT_SESSION_IDLE_SECONDS = 30 * 60;

const REQUIRED_IN_PRODUCTION = [
  ['DATABASE_URL', 'the embedded Postgres is for development only'],
  ['REDIS_URL', 'the in-process store is for development only'],
  ['SECRET_KEY', '32 random bytes, e.g. openssl rand -hex 32'],
  ['SMTP_URL', 'back-up codes and security notices are sent by email; the development outbox is for development only'],
] as const;

/** Decodes a 32-byte key given as 64 hex characters or base64/base64url. */
export function decodeKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

/** Validates the environment and returns a frozen Config, or throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // Checked on the raw environment too, so a format error elsewhere does not hide these.
  const given = (key: string) => Boolean(env[key]?.trim());
  if (env['NODE_ENV'] === 'production') {
    for (const [key, why] of REQUIRED_IN_PRODUCTION) {
      if (key === 'REDIS_URL' && (given('REDIS_SENTINELS') || given('REDIS_CLUSTER_NODES'))) continue;
      if (!given(key)) problems.push(`${key}: required in production (${why})${key === 'REDIS_URL' ? '; with Redis Sentinel or Cluster, set REDIS_SENTINELS or REDIS_CLUSTER_NODES instead' : ''}`);
    }
  }
  problems.push(...redisCombinationProblems(given, env['REDIS_URL']));
  if (!parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (issuerUrl.search || issuerUrl.hash) problems.push('ISSUER: must not contain a query or fragment');
  if (e.NODE_ENV === 'production' && issuerUrl.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname)) {
    problems.push('ISSUER: must use https in production');
  }
  if (issuerUrl.protocol === 'https:' && !e.TRUST_PROXY) {
    // Without it no request counts as https, and no Secure cookie (so no login) could be set.
    problems.push('TRUST_PROXY: must be true when ISSUER is https; Twofold serves plain http behind a TLS-terminating proxy, and learns that a request came over https only from the X-Forwarded-Proto header of a trusted proxy');
  }
  if (e.REFRESH_TOKEN_TTL > e.GRANT_TTL) problems.push('REFRESH_TOKEN_TTL: must not be longer than GRANT_TTL');
  if (e.SESSION_IDLE_TTL !== undefined && e.SESSION_IDLE_TTL > e.SESSION_TTL) {
    problems.push(`SESSION_IDLE_TTL: must not be longer than SESSION_TTL (${e.SESSION_TTL}s), got ${e.SESSION_IDLE_TTL}s; a session ends SESSION_TTL after the login however it is used`);
  }
  if (e.DATABASE_POOL_MIN > e.DATABASE_POOL_MAX) problems.push(`DATABASE_POOL_MIN: must not be more than DATABASE_POOL_MAX (${e.DATABASE_POOL_MAX})`);
  if (e.METRICS_PORT === e.PORT) problems.push(`METRICS_PORT: must differ from PORT (${e.PORT}); the metrics are served on a port of their own`);
  if (problems.length) throw new ConfigError(problems);
  const redis = redisConnection(e);

  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    databasePool: Object.freeze({ min: e.DATABASE_POOL_MIN, max: e.DATABASE_POOL_MAX }),
    redis: redis && deepFreeze(redis),
    redisPrefix: redis?.mode === 'cluster' ? hashTagged(e.REDIS_PREFIX) : e.REDIS_PREFIX,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    dataDir: path.resolve(e.DATA_DIR),
    secretKey: e.SECRET_KEY,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    totpIssuer: e.TOTP_ISSUER,
    metrics: e.METRICS_PORT === undefined ? undefined : Object.freeze({ host: e.METRICS_HOST, port: e.METRICS_PORT }),
    lifetimes: Object.freeze({
      session: e.SESSION_TTL,
      sessionIdle: e.SESSION_IDLE_TTL ?? Math.min(DEFAULT_SESSION_IDLE_SECONDS, e.SESSION_TTL),
      interaction: e.INTERACTION_TTL,
      authorizationCode: e.AUTHORIZATION_CODE_TTL,
      accessToken: e.ACCESS_TOKEN_TTL,
      idToken: e.ID_TOKEN_TTL,
      refreshToken: e.REFRESH_TOKEN_TTL,
      grant: e.GRANT_TTL,
    }),
  });
}

type ParsedEnv = z.infer<typeof schema>;

function redisConnection(e: ParsedEnv): RedisConnection | undefined {
  if (e.REDIS_SENTINELS) {
    return { mode: 'sentinel', sentinels: e.REDIS_SENTINELS, masterName: e.REDIS_SENTINEL_NAME!, sentinelPassword: e.REDIS_SENTINEL_PASSWORD, url: e.REDIS_URL };
  }
  if (e.REDIS_CLUSTER_NODES) return { mode: 'cluster', nodes: e.REDIS_CLUSTER_NODES, url: e.REDIS_URL };
  return e.REDIS_URL ? { mode: 'standalone', url: e.REDIS_URL } : undefined;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (inner && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}
