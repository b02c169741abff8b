// The second-factor step: "Enter the code from your authenticator app".
import type Router from '@koa/router';
import type { Context } from 'koa';
import { describeLockTime, CODE_FAILURES_PER_LOGIN } from '../../security/attempt-limits.js';
import { requestOrigin } from '../../security/audit.js';
import { AppError } from '../../errors.js';
import { ACR_PASSWORD_EMAIL, acrRank, requestedAcrRank } from '../../oidc/acr.js';
import { completeRecordedLogin, loginEvents, refuseDisabledAccount } from '../complete-login.js';
import type { InteractionDeps } from '../deps.js';
import type { LoginState } from '../login-state.js';
import { loadInteractionAndState, type InteractionDetails } from '../load-interaction.js';
import { countWrongCode } from '../count-wrong-code.js';
import { notifyLockout } from '../notify-owner.js';
import { verifyTotpLogin } from './verify-totp-login.js';

export type CodeError = 'FORMAT' | 'WRONG' | 'LOCKED';

/** Renders the code page; "Problems with the code" is offered unless the client asks for the app's level. */
export async function showCode(
  ctx: Context,
  details: InteractionDetails,
  form: { error?: CodeError; wait?: string; attemptsLeft?: number; clockOffsetMinutes?: number } = {},
): Promise<void> {
  const emailAllowed = requestedAcrRank(details.params) <= acrRank(ACR_PASSWORD_EMAIL);
  await ctx.render('second-factor/code', { title: 'Two-factor authentication', uid: details.uid, emailAllowed, ...form });
}

/** Registers POST /interaction/:uid/totp. */
export function addSecondFactorRoutes(router: Router, deps: InteractionDeps): void {
  router.post('/interaction/:uid/totp', async (ctx) => {
    const [details, state] = await loadInteractionAndState(deps, ctx, 'login');
    if (!state || state.setup || state.emailCode) throw new AppError('INTERACTION_EXPIRED');
    const origin = requestOrigin(ctx, details.params['client_id']);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;

    // Checked before the code, as the login's events are recorded in the statement that accepts it.
    await refuseDisabledAccount(deps, details.uid, state.accountId);
    const events = loginEvents({ accountId: state.accountId, method: 'totp', origin, factorEvent: 'mfa.totp.accepted' });
    const result = await verifyTotpLogin(
      { queries: deps.queries, limit: deps.limits.secondFactor, clock: deps.clock },
      { accountId: state.accountId, code: body['code'], carried: state.totpSealed, onAccept: { audit: deps.audit, events } },
    );
    switch (result.status) {
      case 'OK':
        return completeRecordedLogin(deps, ctx, { interaction: details, accountId: state.accountId, method: 'totp' });
      case 'INVALID_FORMAT':
        ctx.status = 400;
        return showCode(ctx, details, { error: 'FORMAT' });
      case 'NOT_CONNECTED':
        // Disconnected in another session meanwhile: start this login again.
        await deps.loginState.clear(details.uid);
        throw new AppError('INTERACTION_EXPIRED');
      case 'LOCKED':
        if (result.justLocked) {
          await deps.audit.record('mfa.totp.locked', origin, state.accountId, { lockSeconds: result.retryAfterSeconds });
          await notifyLockout(deps, state.accountId, 'second-factor-locked', result.retryAfterSeconds);
        }
        ctx.status = 429;
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        return showCode(ctx, details, { error: 'LOCKED', wait: describeLockTime(result.retryAfterSeconds) });
      case 'WRONG':
        await deps.audit.record('mfa.totp.rejected', origin, state.accountId, { reason: result.reason });
        return wrongCode(deps, ctx, details, state, result.clockOffsetMinutes);
    }
  });
}

async function wrongCode(deps: InteractionDeps, ctx: Context, details: InteractionDetails, state: LoginState, clockOffsetMinutes?: number): Promise<void> {
  const next = await countWrongCode(deps, ctx, details, state);
  if (!next) return;
  ctx.status = 401;
  return showCode(ctx, details, { error: 'WRONG', attemptsLeft: CODE_FAILURES_PER_LOGIN - next.codeFailures, ...(clockOffsetMinutes ? { clockOffsetMinutes } : {}) });
}
