// The end of the login prompt: every required factor has passed, so the session is created now.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { LOGIN_RESULTS, type LoginMethod } from '../oidc/acr.js';
import type { AuditEntry, AuditEventName, AuditLog, RequestOrigin } from '../security/audit.js';
import type { LoginStateStore } from './login-state.js';
import { finishInteraction, type InteractionDetails } from './load-interaction.js';
import { AppError } from '../errors.js';
import type { AccountCache } from '../oidc/account-cache.js';

type CompleteLoginDeps = { provider: Provider; loginState: LoginStateStore; audit: AuditLog; accounts: Pick<AccountCache, 'find'> };

interface FinishedLogin {
  interaction: InteractionDetails;
  accountId: string;
  method: LoginMethod;
  origin: RequestOrigin;
  /** The event of the last step (e.g. the accepted code), recorded before login.succeeded. */
  factorEvent?: AuditEventName;
}

/** The audit events of a login that succeeded: the last step's event when it has one, then login.succeeded. */
export function loginEvents(login: Omit<FinishedLogin, 'interaction'>): AuditEntry[] {
  const { acr, amr } = LOGIN_RESULTS[login.method];
  const events: AuditEntry[] = [{ event: 'login.succeeded', origin: login.origin, accountId: login.accountId, details: { acr, amr } }];
  if (login.factorEvent) events.unshift({ event: login.factorEvent, origin: login.origin, accountId: login.accountId });
  return events;
}

/**
 * Ends the login when its account was disabled while the login was between its steps: it gets no session (and so
 * none to revive on enabling). Read through the account cache, which the token exchange then finds warm.
 */
export async function refuseDisabledAccount(deps: Pick<CompleteLoginDeps, 'accounts' | 'loginState'>, uid: string, accountId: string): Promise<void> {
  const account = await deps.accounts.find(accountId);
  if (!account || account.disabled) {
    await deps.loginState.clear(uid);
    throw new AppError('INTERACTION_EXPIRED');
  }
}

/** Finishes the login with the acr and amr of the method used, and records it (loginEvents). */
export async function completeLogin(deps: CompleteLoginDeps, ctx: Context, login: FinishedLogin): Promise<void> {
  await refuseDisabledAccount(deps, login.interaction.uid, login.accountId);
  await Promise.all([deps.audit.recordAll(loginEvents(login)), deps.loginState.clear(login.interaction.uid)]);
  await finishInteraction(ctx, login.interaction, loginResult(login));
}

/** As completeLogin, for a login whose account was checked and whose events were recorded with its last step. */
export async function completeRecordedLogin(deps: Pick<CompleteLoginDeps, 'loginState'>, ctx: Context, login: Omit<FinishedLogin, 'origin' | 'factorEvent'>): Promise<void> {
  // Together (one round trip): a state left behind by a failed clear expires with the interaction, unused.
  await Promise.all([deps.loginState.clear(login.interaction.uid), finishInteraction(ctx, login.interaction, loginResult(login))]);
}

function loginResult(login: Pick<FinishedLogin, 'accountId' | 'method'>) {
  const { acr, amr } = LOGIN_RESULTS[login.method];
  return { login: { accountId: login.accountId, acr, amr: [...amr], remember: true } };
}
