// Changing one's password on Your settings: the current password first (under the login's attempt limit), then the
// new one under the same rules as any new password.
import { checkNewPassword, hashPassword } from '../security/passwords.js';
import type { Account } from '../storage/queries.js';
import { checkCurrentPassword, passwordLimitKey, type CurrentPasswordDeps } from './check-current-password.js';

export type ChangePasswordResult =
  | { status: 'CHANGED' }
  | { status: 'LOCKED'; retryAfterSeconds: number; justLocked: boolean }
  | { status: 'WRONG_CURRENT' }
  | { status: 'MISMATCH' }
  | { status: 'REFUSED'; message: string };

/** Checks the current password, then stores the new one hashed. Nothing changes unless every check passes. */
export async function changePassword(
  deps: CurrentPasswordDeps,
  account: Account,
  input: { current: unknown; next: unknown; repeat: unknown },
): Promise<ChangePasswordResult> {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const [current, next, repeat] = [text(input.current), text(input.next), text(input.repeat)];
  const checked = await checkCurrentPassword(deps, account, current);
  if (checked.status === 'WRONG') return { status: 'WRONG_CURRENT' };
  if (checked.status === 'LOCKED') return checked;
  if (next !== repeat) return { status: 'MISMATCH' };
  const policy = await checkNewPassword(next, { username: account.username });
  if (!policy.ok) return { status: 'REFUSED', message: policy.message };
  await deps.queries.accounts.setPasswordHash(account.id, await hashPassword(next));
  if (checked.failuresBefore) await deps.limit.reset(passwordLimitKey(account));
  return { status: 'CHANGED' };
}
