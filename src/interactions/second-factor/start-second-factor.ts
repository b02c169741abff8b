// After the password (or for a step-up): decide the next step and keep the login's state for it.
import type { Account } from '../../storage/queries.js';
import type { Queries } from '../../storage/queries.js';
import type { LoginStateStore } from '../login-state.js';
import { planSecondFactor } from './plan-second-factor.js';

export type NextStep = { next: 'COMPLETE' } | { next: 'CONTINUE' };

/** Plans the second factor; returns COMPLETE when the password is enough, else stores the state for the next page. */
export async function startSecondFactor(
  deps: { queries: Pick<Queries, 'totp'>; loginState: LoginStateStore },
  input: { uid: string; account: Account; requestedRank: number; passwordAt: number; hasTotp?: boolean; totpSealed?: string | undefined },
): Promise<NextStep> {
  // The password step read it with the account; a step-up has not, and asks.
  const hasTotp = input.hasTotp ?? (await deps.queries.totp.exists(input.account.id));
  const plan = planSecondFactor({ account: input.account, hasTotp, requestedRank: input.requestedRank });
  if (plan.kind === 'NONE') return { next: 'COMPLETE' };
  await deps.loginState.save(input.uid, {
    accountId: input.account.id,
    passwordAt: input.passwordAt,
    codeFailures: 0,
    ...(plan.kind === 'TOTP' && input.totpSealed ? { totpSealed: input.totpSealed } : {}),
    ...(plan.kind === 'SETUP' ? { setup: { step: 'install' as const } } : {}),
  });
  return { next: 'CONTINUE' };
}
