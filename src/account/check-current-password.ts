// The password of the person already signed in, asked again before a change: under the login's per-username limit,
// so guessing it here and at the login draws on one allowance.
import type { AttemptLimit } from '../security/attempt-limits.js';
import { isPasswordTooLong, verifyPassword } from '../security/passwords.js';
import type { Account, Queries } from '../storage/queries.js';

export type CurrentPasswordResult =
  /** `failuresBefore`: wrong passwords in a row for this username before this right one. */
  | { status: 'OK'; failuresBefore: number }
  | { status: 'WRONG' }
  /** `justLocked` when this very attempt locked the username (its owner is to be told). */
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean };

export interface CurrentPasswordDeps {
  queries: Pick<Queries, 'accounts'>;
  /** The login's per-username limit. */
  limit: AttemptLimit;
}

/** The limit's key for an account: the same as the login's. */
export const passwordLimitKey = (account: Pick<Account, 'username'>) => account.username.trim().toLowerCase();

/** Checks `password` against the account's stored hash. A wrong one counts; while locked, even the right one is refused. */
export async function checkCurrentPassword(deps: CurrentPasswordDeps, account: Account, password: string): Promise<CurrentPasswordResult> {
  const key = passwordLimitKey(account);
  const check = await deps.limit.check(key);
  if (check.status === 'LOCKED') return { ...check, justLocked: false };
  // The stored hash is read again: the one the session loaded with may be older.
  const stored = await deps.queries.accounts.findById(account.id);
  if (!password || isPasswordTooLong(password) || !(await verifyPassword(stored?.passwordHash, password))) {
    const after = await deps.limit.fail(key);
    return after.status === 'LOCKED' ? { ...after, justLocked: true } : { status: 'WRONG' };
  }
  return { status: 'OK', failuresBefore: check.failures ?? 0 };
}
