// The end of the login prompt: every required factor has passed, so the session is created now.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { LOGIN_RESULTS, type LoginMethod } from '../oidc/acr.js';
import type { AuditEntry, AuditEventName, AuditLog, RequestOrigin } from '../security/audit.js';
import type { LoginStateStore } from './login-state.js';
import { finishInteraction, type InteractionDetails } from './load-interaction.js';
import { AppError } from '../errors.js';
import type { AccountCache } from '../oidc/account-cache.js';

/**
 * Finishes the login with the acr and amr of the method used, and records it, together with `factorEvent`
 * (e.g. the accepted code) when the last step has one.
 */
export async function completeLogin(
  deps: { provider: Provider; loginState: LoginStateStore; audit: AuditLog; accounts: Pick<AccountCache, 'find'> },
  ctx: Context,
  login: { interaction: InteractionDetails; accountId: string; method: LoginMethod; origin: RequestOrigin; factorEvent?: AuditEventName },
): Promise<void> {
  // An account disabled while this login was between its steps gets no session (and so none to revive on enabling).
  // Read through the account cache, which the token exchange then finds warm: no extra Postgres round trip.
  const account = await deps.accounts.find(login.accountId);
  if (!account || account.disabled) {
    await deps.loginState.clear(login.interaction.uid);
    throw new AppError('INTERACTION_EXPIRED');
  }
  const { acr, amr } = LOGIN_RESULTS[login.method];
  const events: AuditEntry[] = [{ event: 'login.succeeded', origin: login.origin, accountId: login.accountId, details: { acr, amr } }];
  if (login.factorEvent) events.unshift({ event: login.factorEvent, origin: login.origin, accountId: login.accountId });
  await Promise.all([deps.audit.recordAll(events), deps.loginState.clear(login.interaction.uid)]);
  await finishInteraction(ctx, login.interaction, { login: { accountId: login.accountId, acr, amr: [...amr], remember: true } });
}
