// Makes an account a user or a sysadmin, from the admin console.
import type { AuditLog } from '../security/audit.js';
import type { Account, Queries, Role } from '../storage/queries.js';
import type { AdminActor } from './create-account.js';

export type ChangeRoleResult = { status: 'CHANGED'; account: Account } | { status: 'UNCHANGED' } | { status: 'SELF_DEMOTION' };

/** Parses the role a form or link asks for; undefined when it is not one. */
export function parseRole(value: unknown): Role | undefined {
  return value === 'user' || value === 'sysadmin' ? value : undefined;
}

/** Gives `target` the role `to` and records account.role_changed; an administrator cannot take their own sysadmin role. */
export async function changeRole(deps: { queries: Pick<Queries, 'accounts'>; audit: AuditLog }, target: Account, to: Role, actor: AdminActor): Promise<ChangeRoleResult> {
  // Why: the console must never lock out the person using it, and a demotion is for another administrator to decide.
  if (target.id === actor.accountId && to !== 'sysadmin') return { status: 'SELF_DEMOTION' };
  const account = await deps.queries.accounts.changeRole(target.id, to);
  if (!account) return { status: 'UNCHANGED' };
  await deps.audit.record('account.role_changed', actor.origin, account.id, { from: target.role, to }, actor.accountId);
  return { status: 'CHANGED', account };
}
