// Attempt limits on secrets people type (failures per account and per source IP) and on costly endpoints, shared by all nodes.
import type { RedisClient } from '../storage/short-lived/connect-redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * ALLOWED from check() tells how many failures are on record, so a success need not reset a clean count. LOCKED
 * from fail() has `started` on the one failure that used up the allowance, whatever other nodes do meanwhile.
 */
export type LimitCheck = { status: 'ALLOWED'; failures?: number } | { status: 'LOCKED'; retryAfterSeconds: number; started?: true };

/**
 * One limit: `allowed` failures within `windowSeconds`, then locked for `lockSeconds`. With `repeatLocks`, each
 * further lock that fail() starts within `repeatLocks.memorySeconds` of the first lasts twice as long as the one
 * before, up to `repeatLocks.maxLockSeconds`.
 */
export interface AttemptLimit {
  check(key: string): Promise<LimitCheck>;
  /** Records a failure; returns LOCKED when this failure used up the allowance. */
  fail(key: string): Promise<LimitCheck>;
  reset(key: string): Promise<void>;
  /** Counts an attempt, failed or not; LOCKED refuses this one, once `allowed` were made within the window. */
  take(key: string): Promise<LimitCheck>;
}

export interface LimitRule {
  name: string;
  allowed: number;
  windowSeconds: number;
  lockSeconds: number;
  repeatLocks?: { memorySeconds: number; maxLockSeconds: number };
}

/**
 * Password limits. Per account: 10 consecutive failures lock it for 15 minutes, counted per typed username
 * whether the account exists or not, so the lock reveals nothing (NIST SP 800-63B §3.2.2 allows at most 100).
 * That lock never grows: anyone can type a sysadmin's username, and a lock that grew would let them keep the
 * sysadmin out for longer. Per IP: 50 failures in 15 minutes block that address for 15 minutes, against guessing
 * across many usernames; an address that comes back for more is blocked twice as long each time within a day,
 * up to 24 hours (increasing waits, NIST SP 800-63B §3.2.2).
 */
export const PASSWORD_LIMITS = {
  account: { name: 'pwd-account', allowed: 10, windowSeconds: 15 * 60, lockSeconds: 15 * 60 },
  ip: { name: 'pwd-ip', allowed: 50, windowSeconds: 15 * 60, lockSeconds: 15 * 60, repeatLocks: { memorySeconds: 24 * 60 * 60, maxLockSeconds: 24 * 60 * 60 } },
} satisfies Record<string, LimitRule>;

/**
 * Against credential stuffing from many addresses, which no per-address limit sees: when wrong passwords across
 * all addresses reach `failures` within `windowSeconds` (a surge), every address is held to `ip.allowed` failures
 * in 15 minutes instead of 50, until `holdSeconds` after the surge started (then it is counted again). Ordinary
 * traffic stays far below it: at the per-address limit, 12 addresses guessing at full speed are needed to start
 * one. Each start is logged and audited (`password.surge`). Legitimate users behind one shared address (a school's
 * NAT) can then be blocked sooner: after 20 wrong passwords in 15 minutes from that address.
 */
export const PASSWORD_SURGE = {
  failures: 600,
  windowSeconds: 5 * 60,
  holdSeconds: 15 * 60,
  ip: { name: 'pwd-ip-surge', allowed: 20, windowSeconds: 15 * 60, lockSeconds: 15 * 60, repeatLocks: { memorySeconds: 24 * 60 * 60, maxLockSeconds: 24 * 60 * 60 } },
} as const satisfies SurgeRule;

export interface SurgeRule {
  failures: number;
  windowSeconds: number;
  holdSeconds: number;
  ip: LimitRule;
}

/**
 * Second-factor limit: 10 wrong codes (app or email) within an hour, across logins, lock the account's second
 * factor for 15 minutes. ±1 step keeps three app codes valid, so 10 guesses give a 1-in-33,000 chance
 * (NIST SP 800-63B §3.2.2); sending a new email code does not reset the count (§3.1.3.2). Each further lock within
 * a week of the first lasts twice as long, up to a day, so someone who has the password gets about 130 guesses a
 * week and not 960 a day. Only someone past the password can cause this lock, so its length is not a lockout
 * weapon for strangers; the owner is told at each lock.
 */
export const CODE_LIMITS = {
  secondFactor: {
    name: 'second-factor-account', allowed: 10, windowSeconds: 60 * 60, lockSeconds: 15 * 60,
    repeatLocks: { memorySeconds: 7 * 24 * 60 * 60, maxLockSeconds: 24 * 60 * 60 },
  },
} satisfies Record<string, LimitRule>;

/**
 * Sending back-up codes by email, against mail bombing and cost (ASVS 2.4.1): per account one a minute and five
 * an hour; per source IP twenty an hour. Only sent mails count.
 */
export const EMAIL_SEND_LIMITS = {
  accountPerMinute: { name: 'email-send-account-minute', allowed: 1, windowSeconds: 60, lockSeconds: 60 },
  accountPerHour: { name: 'email-send-account-hour', allowed: 5, windowSeconds: 60 * 60, lockSeconds: 60 * 60 },
  ip: { name: 'email-send-ip', allowed: 20, windowSeconds: 60 * 60, lockSeconds: 60 * 60 },
} satisfies Record<string, LimitRule>;

/**
 * Dynamic registration (RFC 7591) and management (RFC 7592) per source IP, every request counted, refused ones too:
 * each refusal writes an audit row and each registration a client, and an initial access token should not be
 * guessed online either (ASVS 2.4.1). 20 registrations an hour is far above what administrators hand out tokens
 * for; 60 management requests an hour let a client read its registration at every start.
 */
export const REGISTRATION_LIMITS = {
  create: { name: 'registration-ip', allowed: 20, windowSeconds: 60 * 60, lockSeconds: 60 * 60 },
  manage: { name: 'registration-management-ip', allowed: 60, windowSeconds: 60 * 60, lockSeconds: 60 * 60 },
} satisfies Record<string, LimitRule>;

/** Wrong codes allowed in one login before it starts again from the password. */
export const CODE_FAILURES_PER_LOGIN = 5;

/** Creates a limit in Redis (shared by every node, survives restarts) or, without Redis, in this process. */
export function createAttemptLimit(rule: LimitRule, store: { redis?: RedisClient | undefined; prefix: string }): AttemptLimit {
  const options = { keyPrefix: `${store.prefix}limit:${rule.name}`, points: rule.allowed, duration: rule.windowSeconds, blockDuration: rule.lockSeconds };
  // Fail closed: when Redis is unreachable the check throws instead of letting guesses through unchecked.
  const limiterFor = (opts: typeof options): RateLimiterAbstract =>
    store.redis ? new RateLimiterRedis({ ...opts, storeClient: store.redis, rejectIfRedisNotReady: true }) : new RateLimiterMemory(opts);
  const limiter = limiterFor(options);
  // How many locks this key has had lately: the next one lasts lockSeconds * 2^(that count - 1).
  const repeat = rule.repeatLocks;
  const lockCount = repeat && limiterFor({ keyPrefix: `${options.keyPrefix}:locks`, points: Number.MAX_SAFE_INTEGER, duration: repeat.memorySeconds, blockDuration: 0 });

  const locked = (res: RateLimiterRes): LimitCheck => ({ status: 'LOCKED', retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) });
  /** Starts a lock on `key`: the rule's lockSeconds, or with repeatLocks twice the last one's. */
  const lock = async (key: string): Promise<LimitCheck> => {
    let seconds = rule.lockSeconds;
    if (lockCount && repeat) {
      const { consumedPoints } = await lockCount.consume(key);
      seconds = Math.min(repeat.maxLockSeconds, rule.lockSeconds * 2 ** Math.min(consumedPoints - 1, 30));
    }
    return locked(await limiter.block(key, seconds));
  };

  const redis = store.redis;
  return {
    async check(key) {
      if (!redis) {
        const res = await limiter.get(key);
        return res && res.consumedPoints >= rule.allowed ? locked(res) : { status: 'ALLOWED', failures: res?.consumedPoints ?? 0 };
      }
      // Every step of every login checks a limit: one GET of the count rate-limiter-flexible keeps, instead of its
      // get (a MULTI of GET and PTTL). How long a lock lasts is asked only for a key at its limit.
      const rlKey = limiter.getKey(key);
      const failures = Number((await redis.get(rlKey)) ?? 0);
      if (failures < rule.allowed) return { status: 'ALLOWED', failures };
      const ms = await redis.pttl(rlKey);
      // -2: the key expired in between; -1 never happens (every count is kept for a window).
      return ms === -2 ? { status: 'ALLOWED', failures: 0 } : { status: 'LOCKED', retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
    },
    async fail(key) {
      try {
        const res = await limiter.consume(key);
        if (res.remainingPoints > 0) return { status: 'ALLOWED' };
        // The last allowed failure starts the full lock at once, whatever was left of the window.
        return { ...(await lock(key)), started: true };
      } catch (err) {
        if (err instanceof RateLimiterRes) return locked(err);
        throw err;
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
    async take(key) {
      try {
        await limiter.consume(key);
        return { status: 'ALLOWED' };
      } catch (err) {
        // Refused: the allowance is used up, and the first refusal starts the lock (blockDuration).
        if (err instanceof RateLimiterRes) return locked(err);
        throw err;
      }
    },
  };
}

/** The longer of two answers: a lock beats no lock, and of two locks the one that ends later. */
function stricter(a: LimitCheck, b: LimitCheck): LimitCheck {
  if (a.status !== 'LOCKED') return b.status === 'LOCKED' ? b : a;
  return b.status === 'LOCKED' && b.retryAfterSeconds > a.retryAfterSeconds ? b : a;
}

/**
 * The per-address password limit, with the surge rule above: a failure counts against the address's own limit,
 * its stricter surge limit and the count across all addresses; the surge limit is enforced only while a surge
 * lasts. `onSurge` is called by the failure that starts one: once per surge, on one node.
 */
export function createPasswordIpLimit(
  store: { redis?: RedisClient | undefined; prefix: string },
  options: { onSurge?: (started: { failures: number; windowSeconds: number; ip: string }) => void; rules?: { ip: LimitRule; surge: SurgeRule } } = {},
): AttemptLimit {
  const rules = options.rules ?? { ip: PASSWORD_LIMITS.ip, surge: PASSWORD_SURGE };
  const ip = createAttemptLimit(rules.ip, store);
  const duringSurge = createAttemptLimit(rules.surge.ip, store);
  // One count for every address; its "lock" is never enforced as such, only read as "a surge is on".
  const everyone = createAttemptLimit({ name: 'pwd-global', allowed: rules.surge.failures, windowSeconds: rules.surge.windowSeconds, lockSeconds: rules.surge.holdSeconds }, store);
  const ALL = 'all';
  // Read at most once a second per process: a login does not pay a round trip for it, and a surge is seen within
  // a second on every node. A failed read is not kept, so the next check asks again.
  let known: { until: number; on: Promise<boolean> } | undefined;
  const surgeOn = (): Promise<boolean> => {
    const now = Date.now();
    if (!known || now >= known.until) {
      const on = everyone.check(ALL).then((check) => check.status === 'LOCKED');
      on.catch(() => {
        if (known?.on === on) known = undefined;
      });
      known = { until: now + 1_000, on };
    }
    return known.on;
  };

  return {
    async check(key) {
      const [own, surge] = await Promise.all([ip.check(key), surgeOn()]);
      // The stricter count is read only during a surge.
      return surge ? stricter(own, await duringSurge.check(key)) : own;
    },
    async fail(key) {
      const [own, strict, all] = await Promise.all([ip.fail(key), duringSurge.fail(key), everyone.fail(ALL)]);
      if (all.status === 'LOCKED') known = { until: Date.now() + 1_000, on: Promise.resolve(true) };
      if (all.status === 'LOCKED' && all.started) options.onSurge?.({ failures: rules.surge.failures, windowSeconds: rules.surge.windowSeconds, ip: key });
      return all.status === 'LOCKED' ? stricter(own, strict) : own;
    },
    async reset(key) {
      await Promise.all([ip.reset(key), duringSurge.reset(key)]);
    },
    take: (key) => ip.take(key),
  };
}

/** How long a lock lasts, for "try again in …": minutes rounded up (at least 1), or whole hours from 2 hours on. */
export function describeLockTime(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  if (minutes < 120) return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  return `${Math.ceil(minutes / 60)} hours`;
}
