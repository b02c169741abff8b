// Which signing key signs and which keys are published at a given time: pure rules over the keys' sign-from times.

/** The algorithms Twofold signs with, one key of each signing at any time. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** How often every node reloads the signing keys from Postgres, in seconds. */
export const KEY_REFRESH_SECONDS = 30;

/**
 * The shortest time between a rotation and the new keys signing, in seconds. Why: a node learns of new keys at its
 * next reload, so after two reload intervals (plus a minute for slow reloads and clocks) every node publishes them,
 * and a relying party that fetches the JWKS on seeing an unknown kid finds them there, whichever node it asks.
 */
export const MIN_ACTIVATION_SECONDS = 2 * KEY_REFRESH_SECONDS + 60;

/** How long a retired key stays published beyond the lifetime of the last token it signed, for clock differences. */
export const RETIRE_MARGIN_SECONDS = 300;

/** What the schedule needs to know of a key. */
export interface ScheduledKey {
  kid: string;
  alg: SigningAlg;
  /** From then on this key signs; the key of its alg that signed before retires. */
  signFrom: Date;
}

/** A key's state at one time. Every state but `expired` is published; only `signing` signs. */
export type KeyState =
  | { state: 'signing' }
  | { state: 'next'; signsFrom: Date }
  | { state: 'retired'; retiredAt: Date; publishedUntil: Date }
  | { state: 'expired'; retiredAt: Date; publishedUntil: Date };

/**
 * How long a key stays published after it retired, in milliseconds: it signed ID tokens until then, and they
 * verify for up to ID_TOKEN_TTL more. (Access tokens are opaque and oidc-provider signs nothing else with these
 * keys in Twofold's configuration: no JWT userinfo, introspection, authorization responses or logout tokens.)
 */
export function publicationAfterRetirement(idTokenTtlSeconds: number): number {
  return (idTokenTtlSeconds + RETIRE_MARGIN_SECONDS) * 1000;
}

/**
 * Each key with its state at `at`, grouped by alg (in SIGNING_ALGS order) and, within an alg, the signing key
 * first, then the next keys (soonest first), then the retired and expired ones (most recent first). The newest key
 * whose sign-from time has come signs; should none have come (a clock behind the one that made the first keys),
 * the oldest key signs, so a node always has one.
 */
export function scheduleAt<K extends ScheduledKey>(keys: readonly K[], at: Date, publishedAfterRetirementMs: number): { key: K; state: KeyState }[] {
  const result: { key: K; state: KeyState }[] = [];
  for (const alg of SIGNING_ALGS) {
    const ofAlg = keys.filter((key) => key.alg === alg).sort(bySignFrom);
    if (ofAlg.length === 0) continue;
    const started = ofAlg.filter((key) => key.signFrom.getTime() <= at.getTime()).length;
    const signing = Math.max(started - 1, 0);
    result.push({ key: ofAlg[signing]!, state: { state: 'signing' } });
    for (const key of ofAlg.slice(signing + 1)) result.push({ key, state: { state: 'next', signsFrom: key.signFrom } });
    for (let i = signing - 1; i >= 0; i--) {
      // A key retires when the next key of its alg starts signing.
      const retiredAt = ofAlg[i + 1]!.signFrom;
      const publishedUntil = new Date(retiredAt.getTime() + publishedAfterRetirementMs);
      const state = at.getTime() < publishedUntil.getTime() ? 'retired' : 'expired';
      result.push({ key: ofAlg[i]!, state: { state, retiredAt, publishedUntil } });
    }
  }
  return result;
}

/** The first time after `at` when the schedule changes (a key starts signing or stops being published), if any. */
export function nextChangeAfter(keys: readonly ScheduledKey[], at: Date, publishedAfterRetirementMs: number): Date | undefined {
  const times: number[] = [];
  for (const { state } of scheduleAt(keys, at, publishedAfterRetirementMs)) {
    if (state.state === 'next') times.push(state.signsFrom.getTime());
    if (state.state === 'retired') times.push(state.publishedUntil.getTime());
  }
  const after = times.filter((time) => time > at.getTime());
  return after.length ? new Date(Math.min(...after)) : undefined;
}

/** The algs of SIGNING_ALGS that have no key at all. */
export function missingAlgs(keys: readonly ScheduledKey[]): SigningAlg[] {
  return SIGNING_ALGS.filter((alg) => !keys.some((key) => key.alg === alg));
}

/** True when `value` is one of SIGNING_ALGS. */
export function isSigningAlg(value: unknown): value is SigningAlg {
  return (SIGNING_ALGS as readonly unknown[]).includes(value);
}

// Ties cannot happen in the database (a unique constraint), but the order must not depend on the input's.
function bySignFrom(a: ScheduledKey, b: ScheduledKey): number {
  return a.signFrom.getTime() - b.signFrom.getTime() || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}
