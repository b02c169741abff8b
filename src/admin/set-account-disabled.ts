// Disables or enables an account from the admin console.
import type { AuditLog } from '../security/audit.js';
import type { Account, Queries } from '../storage/queries.js';
import type { AdminActor } from './create-account.js';

export type SetDisabledResult = { status: 'CHANGED'; account: Account } | { status: 'UNCHANGED' } | { status: 'SELF' };

/**
 * Disables (or enables) `target` and records account.disabled (or account.enabled). A disabled account cannot log
 * in, and its sessions, tokens and refresh tokens stop working at once: every one of them looks the account up.
 */
export async function setAccountDisabled(deps: { queries: Pick<Queries, 'accounts'>; audit: AuditLog }, target: Account, disabled: boolean, actor: AdminActor): Promise<SetDisabledResult> {
  // Why: disabling oneself would end the session doing it, and could leave nobody able to administer.
  if (disabled && target.id === actor.accountId) return { status: 'SELF' };
  const account = await deps.queries.accounts.changeDisabled(target.id, disabled);
  if (!account) return { status: 'UNCHANGED' };
  await deps.audit.record(disabled ? 'account.disabled' : 'account.enabled', actor.origin, account.id, {}, actor.accountId);
  return { status: 'CHANGED', account };
}
