// "Postpone": a sysadmin may skip 2FA setup for up to five logins, counted in Postgres.
import { requestedAcrRank } from '../../oidc/acr.js';
import type { Queries } from '../../storage/queries.js';
import { MAX_POSTPONEMENTS, planSecondFactor } from '../second-factor/plan-second-factor.js';

export type PostponeResult = { status: 'POSTPONED'; left: number } | { status: 'REFUSED' };

/** Uses one postponement if the plan, recomputed now on the server, still allows it. */
export async function postponeSetup(
  deps: { queries: Pick<Queries, 'accounts' | 'totp'> },
  input: { accountId: string; params: Record<string, unknown> },
): Promise<PostponeResult> {
  const account = await deps.queries.accounts.findById(input.accountId);
  if (!account || account.disabled) return { status: 'REFUSED' };
  const hasTotp = await deps.queries.totp.exists(account.id);
  // Never trust the page: a forged postpone is checked against the account and the requested level again.
  const plan = planSecondFactor({ account, hasTotp, requestedRank: requestedAcrRank(input.params) });
  if (plan.kind !== 'SETUP' || !plan.postpone.allowed) return { status: 'REFUSED' };
  // Atomic in Postgres: parallel logins cannot spend the same postponement twice.
  const used = await deps.queries.accounts.usePostponement(account.id, MAX_POSTPONEMENTS);
  return used.status === 'POSTPONED' ? { status: 'POSTPONED', left: used.left } : { status: 'REFUSED' };
}
