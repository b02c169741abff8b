// Rotates the signing keys: a new key of each alg, published at once and signing later; keys no longer published go.
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Queries } from '../storage/queries.js';
import { missingAlgs, publicationAfterRetirement, scheduleAt, SIGNING_ALGS, type SigningAlg } from './key-schedule.js';
import { createSigningKey } from './signing-keys.js';

interface KeyTime {
  kid: string;
  alg: SigningAlg;
  signFrom: Date;
}

export type RotationResult =
  /** New keys were added; `removed` are the keys whose publication had ended. */
  | { status: 'ROTATED'; added: KeyTime[]; removed: { kid: string; alg: SigningAlg }[] }
  /** Nothing changed: keys from an earlier rotation have yet to start signing. */
  | { status: 'PENDING'; pending: KeyTime[] };

export interface RotationOptions {
  /** Seconds from now until the new keys sign (the CLI insists on at least MIN_ACTIVATION_SECONDS). */
  activateIn: number;
  /** The ID token lifetime in seconds, which decides when a retired key's publication ends. */
  idTokenTtl: number;
  now?: Date;
}

/**
 * Adds a new RS256 and ES256 key that sign from now + activateIn, and deletes the keys no longer published. Refused
 * while an earlier rotation is pending: a second one would only replace keys that never signed. Recorded in the
 * audit log as signing_keys.rotated.
 */
export async function rotateSigningKeys(
  deps: { queries: Pick<Queries, 'signingKeys'>; audit: AuditLog; origin: RequestOrigin },
  options: RotationOptions,
): Promise<RotationResult> {
  const now = options.now ?? new Date();
  const signFrom = new Date(now.getTime() + options.activateIn * 1000);
  const result = await deps.queries.signingKeys.change((stored) => {
    // A database without keys (nobody started a node yet) gets keys that sign at once, which the new ones follow.
    const initial = missingAlgs(stored).map((alg) => createSigningKey(alg, now));
    const schedule = scheduleAt([...stored, ...initial], now, publicationAfterRetirement(options.idTokenTtl));
    const pending = schedule.filter(({ state }) => state.state === 'next').map(({ key }) => keyTime(key));
    if (pending.length) return { add: initial, result: { status: 'PENDING', pending } as RotationResult };
    const expired = schedule.filter(({ state }) => state.state === 'expired').map(({ key }) => ({ kid: key.kid, alg: key.alg }));
    const added = SIGNING_ALGS.map((alg) => createSigningKey(alg, signFrom));
    return {
      add: [...initial, ...added],
      remove: expired.map((key) => key.kid),
      result: { status: 'ROTATED', added: added.map(keyTime), removed: expired } as RotationResult,
    };
  });
  if (result.status === 'ROTATED') {
    await deps.audit.record('signing_keys.rotated', deps.origin, null, {
      added: result.added.map((key) => ({ kid: key.kid, alg: key.alg, signFrom: key.signFrom.toISOString() })),
      removed: result.removed,
    });
  }
  return result;
}

function keyTime(key: KeyTime): KeyTime {
  return { kid: key.kid, alg: key.alg, signFrom: key.signFrom };
}
