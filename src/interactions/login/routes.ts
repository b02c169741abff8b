// The password step of the login journey: the login page and its form.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { requestedAcrRank } from '../../oidc/acr.js';
import { describeLockTime } from '../../security/attempt-limits.js';
import { NOTICE_AFTER_FAILURES, notifyLockout, notifyPasswordAfterFailures } from '../notify-owner.js';
import { requestOrigin } from '../../security/audit.js';
import { completeLogin } from '../complete-login.js';
import type { InteractionDeps } from '../deps.js';
import { loadInteraction, type InteractionDetails } from '../load-interaction.js';
import { startSecondFactor } from '../second-factor/start-second-factor.js';
import { verifyPasswordLogin } from './verify-password-login.js';

export type LoginError = 'MISSING' | 'INVALID' | 'LOCKED' | 'TOO_MANY_CODES';

/** Renders the login page (Username, Password, Log in). */
export async function showLogin(
  provider: Provider,
  ctx: Context,
  details: InteractionDetails,
  form: { username?: string; error?: LoginError; wait?: string } = {},
): Promise<void> {
  const client = await provider.Client.find(String(details.params['client_id']));
  const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
  await ctx.render('login/login', {
    title: 'Log in',
    uid: details.uid,
    clientName: client?.clientName ?? client?.clientId,
    username: form.username ?? hint,
    error: form.error,
    wait: form.wait,
  });
}

/** Registers POST /interaction/:uid/login. */
export function addLoginRoutes(router: Router, deps: InteractionDeps): void {
  router.post('/interaction/:uid/login', async (ctx) => {
    const loading = loadInteraction(deps.provider, ctx, 'login');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const username = typeof body['username'] === 'string' ? body['username'].trim() : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    if (!username || !password) {
      const details = await loading;
      ctx.status = 400;
      return showLogin(deps.provider, ctx, details, { username, error: 'MISSING' });
    }

    // The interaction is read together with the account and its limits (one round trip); no password is checked
    // or counted unless it belongs to this browser.
    const result = await verifyPasswordLogin({ queries: deps.queries, limits: deps.limits.password, accounts: deps.accounts }, { username, password, ip: ctx.ip }, loading);
    const details = await loading;
    const origin = requestOrigin(ctx, details.params['client_id']);
    if (result.status === 'LOCKED') {
      await deps.audit.record('password.locked', origin, result.accountId ?? null);
      // Not awaited: a known username must not answer later than an unknown one (no account enumeration by timing).
      if (result.accountLocked && result.accountId) {
        notifyLockout(deps, result.accountId, 'password-locked', result.retryAfterSeconds).catch((err: unknown) => {
          deps.logger.warn({ err: { message: (err as Error).message }, event: 'notify.password-locked' }, 'could not send the lockout notice');
        });
      }
      ctx.status = 429;
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return showLogin(deps.provider, ctx, details, { username, error: 'LOCKED', wait: describeLockTime(result.retryAfterSeconds) });
    }
    if (result.status === 'INVALID') {
      // Only a known account is named: a typed username may be a password typed into the wrong field.
      await deps.audit.record('password.failed', origin, result.accountId ?? null);
      ctx.status = 401;
      return showLogin(deps.provider, ctx, details, { username, error: 'INVALID' });
    }

    // A new login replaces whatever an earlier attempt in this interaction left behind: the next step's state
    // overwrites it, and a login that is complete now clears it.
    if (result.failuresBefore >= NOTICE_AFTER_FAILURES) notifyPasswordAfterFailures(deps, result.account, result.failuresBefore, origin);
    const next = await startSecondFactor(deps, {
      uid: details.uid,
      account: result.account,
      hasTotp: result.hasTotp,
      totpSealed: result.totpSealed,
      requestedRank: requestedAcrRank(details.params),
      passwordAt: Math.floor(deps.clock() / 1000),
    });
    if (next.next === 'COMPLETE') {
      return completeLogin(deps, ctx, { interaction: details, accountId: result.account.id, method: 'password', origin });
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}`);
  });
}
