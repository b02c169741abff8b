// Changing one's password on Your settings: the current password first (under the login's attempt limit), then the
// new one under the same rules as any new password.
import type { AttemptLimit } from '../security/attempt-limits.js';
import { checkNewPassword, hashPassword, isPasswordTooLong, verifyPassword } from '../security/passwords.js';
import type { Account, Queries } from '../storage/queries.js';

export type ChangePasswordResult =
  | { status: 'CHANGED' }
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean }
  | { status: 'WRONG_CURRENT' }
  | { status: 'MISMATCH' }
  | { status: 'REFUSED'; message: string };

export interface ChangePasswordDeps {
  queries: Pick<Queries, 'accounts'>;
  /** The login's per-username limit: a wrong current password here counts as a wrong one at the login. */
  limit: AttemptLimit;
}

/** Checks the current password, then stores the new one hashed. Nothing changes unless every check passes. */
export async function changePassword(
  deps: ChangePasswordDeps,
  account: Account,
  input: { current: unknown; next: unknown; repeat: unknown },
): Promise<ChangePasswordResult> {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const [current, next, repeat] = [text(input.current), text(input.next), text(input.repeat)];
  // The same key as the login's, so guessing here and there draws on one allowance.
  const key = account.username.trim().toLowerCase();
  const check = await deps.limit.check(key);
  if (check.status === 'LOCKED') return { ...check, justLocked: false };
  // The stored hash is read again: the one the session loaded with may be older.
  const stored = await deps.queries.accounts.findById(account.id);
  if (!current || isPasswordTooLong(current) || !(await verifyPassword(stored?.passwordHash, current))) {
    const after = await deps.limit.fail(key);
    return after.status === 'LOCKED' ? { ...after, justLocked: true } : { status: 'WRONG_CURRENT' };
  }
  if (next !== repeat) return { status: 'MISMATCH' };
  const policy = await checkNewPassword(next, { username: account.username });
  if (!policy.ok) return { status: 'REFUSED', message: policy.message };
  await deps.queries.accounts.setPasswordHash(account.id, await hashPassword(next));
  if (check.failures) await deps.limit.reset(key);
  return { status: 'CHANGED' };
}
