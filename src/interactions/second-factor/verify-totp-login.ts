// The authenticator-app step of a login: the code check, the replay guard and the attempt limit.
import type { AttemptLimit } from '../../security/attempt-limits.js';
import { clockOffsetMinutes, matchTotpStep, normalizeTotpCode, type Clock } from '../../security/totp.js';
import type { Queries } from '../../storage/queries.js';

export type TotpLoginResult =
  | { status: 'OK' }
  | { status: 'INVALID_FORMAT' }
  | { status: 'WRONG'; reason: 'wrong' | 'replay'; clockOffsetMinutes?: number }
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean }
  | { status: 'NOT_CONNECTED' };

/** Checks a code typed at login against the account's authenticator. */
export async function verifyTotpLogin(
  deps: { queries: Pick<Queries, 'totp'>; limit: AttemptLimit; clock: Clock },
  input: { accountId: string; code: unknown },
): Promise<TotpLoginResult> {
  const code = normalizeTotpCode(input.code);
  // The lock and the secret are read at once; the secret is used only when the lock allows.
  const [lock, totp] = await Promise.all([deps.limit.check(input.accountId), code ? deps.queries.totp.find(input.accountId) : undefined]);
  // While locked even a right code is refused, so guessing cannot continue behind the lock.
  if (lock.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: lock.retryAfterSeconds, justLocked: false };
  if (!code) return { status: 'INVALID_FORMAT' };
  if (!totp) return { status: 'NOT_CONNECTED' };

  const step = matchTotpStep(totp.secret, code, deps.clock);
  // The step is recorded atomically in Postgres: a code (or an older one) is accepted once, on any node.
  if (step !== undefined && (await deps.queries.totp.acceptStep(input.accountId, step))) {
    if (lock.failures) await deps.limit.reset(input.accountId);
    return { status: 'OK' };
  }
  const after = await deps.limit.fail(input.accountId);
  if (after.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: after.retryAfterSeconds, justLocked: true };
  if (step !== undefined) return { status: 'WRONG', reason: 'replay' };
  const offset = clockOffsetMinutes(totp.secret, code, deps.clock);
  return { status: 'WRONG', reason: 'wrong', ...(offset === undefined ? {} : { clockOffsetMinutes: offset }) };
}
