// Disables or enables an account from the admin console; disabling ends its sessions and revokes its grants.
import type { AuditLog } from '../security/audit.js';
import type { Account, Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import type { AdminActor } from './create-account.js';

export type SetDisabledResult =
  | { status: 'CHANGED'; account: Account; sessionsEnded?: number; grantsRevoked?: number }
  | { status: 'UNCHANGED' }
  | { status: 'SELF' };

/**
 * Disables (or enables) `target` and records account.disabled (or account.enabled). A disabled account cannot log
 * in; all of its sessions end and all of its grants are revoked with every token, and the counts are recorded.
 */
export async function setAccountDisabled(
  deps: { queries: Pick<Queries, 'accounts'>; store: Pick<ShortLivedStore, 'revokeByAccountId'>; audit: AuditLog },
  target: Account,
  disabled: boolean,
  actor: AdminActor,
): Promise<SetDisabledResult> {
  // Why: disabling oneself would end the session doing it, and could leave nobody able to administer.
  if (disabled && target.id === actor.accountId) return { status: 'SELF' };
  const account = await deps.queries.accounts.changeDisabled(target.id, disabled);
  if (!account) {
    // A disable sent again (say after Redis failed between the two steps) still ends whatever is left.
    if (disabled) await deps.store.revokeByAccountId(target.id);
    return { status: 'UNCHANGED' };
  }
  if (!disabled) {
    await deps.audit.record('account.enabled', actor.origin, account.id, {}, actor.accountId);
    return { status: 'CHANGED', account };
  }
  // Why: findAccount already refuses a disabled account, but its sessions and tokens must not come back if it is
  // enabled again (ASVS 7.4.2). Revoked after the change, so that no login can start a session this would miss.
  const revoked = await deps.store.revokeByAccountId(account.id);
  const counts = { sessionsEnded: revoked.sessions, grantsRevoked: revoked.grants };
  await deps.audit.record('account.disabled', actor.origin, account.id, counts, actor.accountId);
  return { status: 'CHANGED', account, ...counts };
}
