// Checks an email code: bound to this login, valid 5 minutes, single use, burnt after a few wrong guesses.
import type { AttemptLimit } from '../../security/attempt-limits.js';
import type { OneTimeCodes } from '../../security/one-time-code.js';
import type { Clock } from '../../security/totp.js';
import type { ShortLivedStore } from '../../storage/short-lived/short-lived-store.js';
import { EMAIL_CODE_TTL_SECONDS, emailCodeContext, emailCodeKey, type StoredEmailCode } from './send-email-code.js';

/** Wrong guesses allowed on one email code before it is burnt. */
export const EMAIL_CODE_GUESSES = 3;

export type VerifyEmailCodeResult =
  | { status: 'OK' }
  | { status: 'INVALID_FORMAT' }
  | { status: 'WRONG'; guessesLeft: number }
  | { status: 'EXPIRED' }
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean };

/** Verifies a code typed in this login; a success consumes it atomically. */
export async function verifyEmailCode(
  deps: { store: ShortLivedStore; codes: OneTimeCodes; clock: Clock; limit: AttemptLimit },
  input: { uid: string; accountId: string; code: unknown },
): Promise<VerifyEmailCodeResult> {
  const lock = await deps.limit.check(input.accountId);
  if (lock.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: lock.retryAfterSeconds, justLocked: false };
  const code = typeof input.code === 'string' ? input.code.replace(/\s+/g, '') : '';
  if (!/^[0-9]{6}$/.test(code)) return { status: 'INVALID_FORMAT' };

  const key = emailCodeKey(input.uid);
  const stored = await deps.store.getJson<StoredEmailCode>(key);
  // Counted from issue on the server's clock, whatever Redis still holds.
  if (!stored || stored.accountId !== input.accountId || deps.clock() - stored.issuedAt >= EMAIL_CODE_TTL_SECONDS * 1000) return { status: 'EXPIRED' };

  const context = emailCodeContext(input.uid, input.accountId);
  if (deps.codes.matches(stored.hash, code, context)) {
    // Taken atomically: of two parallel submissions only one gets the code, and only if it is still this one.
    const taken = await deps.store.takeJson<StoredEmailCode>(key);
    if (!taken || taken.hash !== stored.hash) return { status: 'EXPIRED' };
    await deps.limit.reset(input.accountId);
    return { status: 'OK' };
  }

  // Wrong guesses count against the account's second-factor limit, which a new code does not reset.
  const after = await deps.limit.fail(input.accountId);
  const guesses = await deps.store.increment(`${key}:attempts`, EMAIL_CODE_TTL_SECONDS);
  if (guesses >= EMAIL_CODE_GUESSES) await deps.store.remove(key);
  if (after.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: after.retryAfterSeconds, justLocked: true };
  return { status: 'WRONG', guessesLeft: Math.max(0, EMAIL_CODE_GUESSES - guesses) };
}
