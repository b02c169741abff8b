// The authenticator-app step of a login: the code check, the replay guard and the attempt limit.
import type { AttemptLimit } from '../../security/attempt-limits.js';
import type { AuditEntry, AuditLog } from '../../security/audit.js';
import { clockOffsetMinutes, matchTotpStep, normalizeTotpCode, type Clock } from '../../security/totp.js';
import type { Queries } from '../../storage/queries.js';
import type { TotpSecret } from '../../storage/totp.js';

export type TotpLoginResult =
  | { status: 'OK' }
  | { status: 'INVALID_FORMAT' }
  | { status: 'WRONG'; reason: 'wrong' | 'replay'; clockOffsetMinutes?: number }
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean }
  | { status: 'NOT_CONNECTED' };

/**
 * Checks a code typed at login against the account's authenticator. `carried` is its secret as read with the
 * account at the password step (LoginState.totpSealed); without it the secret is read here. The `onAccept`
 * events are recorded in `audit` with the accepted step, in the same statement (none when the code is refused).
 */
export async function verifyTotpLogin(
  deps: { queries: Pick<Queries, 'totp'>; limit: AttemptLimit; clock: Clock },
  input: {
    accountId: string; code: unknown; carried?: string | undefined;
    onAccept?: { audit: Pick<AuditLog, 'recordWith'>; events: readonly AuditEntry[] };
  },
): Promise<TotpLoginResult> {
  const code = normalizeTotpCode(input.code);
  const { accountId } = input;
  // The lock and the secret are read at once; the secret is used only when the lock allows.
  const [lock, read] = await Promise.all([deps.limit.check(accountId), code && !input.carried ? deps.queries.totp.find(accountId) : undefined]);
  // While locked even a right code is refused, so guessing cannot continue behind the lock.
  if (lock.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: lock.retryAfterSeconds, justLocked: false };
  if (!code) return { status: 'INVALID_FORMAT' };
  const carried = input.carried ? openCarried(deps.queries.totp, accountId, input.carried) : undefined;
  let totp = carried ?? read ?? (input.carried ? await deps.queries.totp.find(accountId) : undefined);
  if (!totp) return { status: 'NOT_CONNECTED' };

  const { onAccept } = input;
  const accept = (step: number, sealed: string): Promise<boolean> => onAccept
    ? onAccept.audit.recordWith(onAccept.events, (rows) => deps.queries.totp.acceptStep(accountId, step, sealed, rows))
    : deps.queries.totp.acceptStep(accountId, step, sealed);
  let step = matchTotpStep(totp.secret, code, deps.clock);
  // The step is recorded atomically in Postgres, only while this secret is the stored one: a code (or an older
  // one) is accepted once, on any node, and never against an authenticator replaced since it was read.
  let accepted = step !== undefined && (await accept(step, totp.sealed));
  if (!accepted && carried) {
    // What this login carried may be out of date: the answer is decided on the stored authenticator.
    const stored = await deps.queries.totp.find(accountId);
    if (!stored) return { status: 'NOT_CONNECTED' };
    if (stored.sealed !== totp.sealed) {
      totp = stored;
      step = matchTotpStep(totp.secret, code, deps.clock);
      accepted = step !== undefined && (await accept(step, totp.sealed));
    }
  }
  if (accepted) {
    if (lock.failures) await deps.limit.reset(accountId);
    return { status: 'OK' };
  }
  const after = await deps.limit.fail(accountId);
  if (after.status === 'LOCKED') return { status: 'LOCKED', retryAfterSeconds: after.retryAfterSeconds, justLocked: true };
  if (step !== undefined) return { status: 'WRONG', reason: 'replay' };
  const offset = clockOffsetMinutes(totp.secret, code, deps.clock);
  return { status: 'WRONG', reason: 'wrong', ...(offset === undefined ? {} : { clockOffsetMinutes: offset }) };
}

/** The carried secret, opened; undefined when it does not open (e.g. sealed under a key since replaced). */
function openCarried(totp: Pick<Queries['totp'], 'open'>, accountId: string, sealed: string): TotpSecret | undefined {
  try {
    return totp.open(accountId, sealed);
  } catch {
    return undefined;
  }
}
