// Keeps a provider's signing keys current: reloads them from Postgres on a timer, and switches at each sign-from time.
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import type { Logger } from '../logger.js';
import type { SigningKey } from '../storage/signing-keys.js';
import { KEY_REFRESH_SECONDS, nextChangeAfter, publicationAfterRetirement, scheduleAt } from './key-schedule.js';
import { replaceProviderKeys } from './replace-provider-keys.js';

export interface SigningKeyRingOptions {
  /** The ID token lifetime (config.lifetimes.idToken), in seconds: a retired key stays published that much longer. */
  idTokenTtl: number;
  logger?: Logger;
  /** How often to reload the keys from Postgres, in milliseconds (default: KEY_REFRESH_SECONDS). */
  refreshMs?: number;
  /** The clock, in epoch milliseconds (tests move it on). */
  now?: () => number;
}

export interface SigningKeyRing {
  /** The keys to construct a provider with, as of now: per alg the signing key first, the others verify-only. */
  jwks(): { keys: JWK[] };
  /** Keeps `provider`'s keys current from now on (one provider per ring), until stop(). */
  attach(provider: Provider): void;
  /** Reloads the keys from Postgres and applies them; the timer does this every refreshMs. Never throws. */
  refresh(): Promise<void>;
  stop(): void;
}

// setTimeout's longest delay; a change further away is re-planned at every reload anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Creates the ring on `initial` keys, reloading them from `source`. */
export function createSigningKeyRing(source: { list(): Promise<SigningKey[]> }, initial: SigningKey[], options: SigningKeyRingOptions): SigningKeyRing {
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? KEY_REFRESH_SECONDS * 1000;
  const retention = publicationAfterRetirement(options.idTokenTtl);
  let keys = initial;
  let provider: Provider | undefined;
  let applied: string | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let switchTimer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> | undefined;
  let stopped = false;

  function currentJwks(): { keys: JWK[]; summary: string; signing: Record<string, string> } {
    const scheduled = scheduleAt(keys, new Date(now()), retention).filter(({ state }) => state.state !== 'expired');
    const signing: Record<string, string> = {};
    const jwks = scheduled.map(({ key, state }) => {
      if (state.state === 'signing') {
        signing[key.alg] = key.kid;
        return { ...key.jwk, kid: key.kid, alg: key.alg, use: 'sig' } as JWK;
      }
      // Why both: the library signs with the first key of an alg (the schedule puts the signing key first), and skips
      // keys whose key_ops lack 'sign', so a next or retired key cannot sign even if that order were ever lost.
      return { ...key.jwk, kid: key.kid, alg: key.alg, use: 'sig', key_ops: ['verify'] } as JWK;
    });
    const summary = scheduled.map(({ key, state }) => `${key.kid}:${state.state === 'signing' ? 'sign' : 'verify'}`).join(',');
    return { keys: jwks, summary, signing };
  }

  function apply(): void {
    if (!provider || stopped) return;
    const next = currentJwks();
    if (next.summary !== applied) {
      try {
        replaceProviderKeys(provider, { keys: next.keys });
        const first = applied === undefined;
        applied = next.summary;
        if (!first) options.logger?.info({ signing: next.signing, published: next.keys.map((key) => key.kid) }, 'signing keys changed');
      } catch (err) {
        // The message only: the library's error carries the offending key, private parts included, as its cause.
        options.logger?.error({ err: { message: (err as Error).message } }, 'signing keys not applied; the provider keeps its keys');
      }
    }
    // The switch happens at the sign-from time itself, not at the next reload: every node then changes keys within
    // the difference of their clocks.
    clearTimeout(switchTimer);
    const change = nextChangeAfter(keys, new Date(now()), retention);
    if (change) switchTimer = setTimeout(apply, Math.min(Math.max(change.getTime() - now(), 0), MAX_TIMER_MS)).unref();
  }

  async function reload(): Promise<void> {
    try {
      const loaded = await source.list();
      // An empty table (rows deleted by hand) would leave nothing to sign with: keep what was loaded before.
      if (loaded.length === 0) options.logger?.warn('no signing keys in the database; keeping the loaded ones');
      else keys = loaded;
    } catch (err) {
      options.logger?.warn({ err: { message: (err as Error).message } }, `signing keys not reloaded; keeping the loaded ones and retrying in ${refreshMs / 1000}s`);
    }
    apply();
  }

  function refresh(): Promise<void> {
    // A slow database must not pile reloads up: callers during a reload share it.
    reloading ??= reload().finally(() => (reloading = undefined));
    return reloading;
  }

  return {
    jwks: () => ({ keys: currentJwks().keys }),
    attach(target) {
      if (provider) throw new Error('this signing key ring already keeps another provider current');
      provider = target;
      apply();
      refreshTimer = setInterval(() => void refresh(), refreshMs).unref();
    },
    refresh,
    stop() {
      stopped = true;
      clearInterval(refreshTimer);
      clearTimeout(switchTimer);
    },
  };
}
