// "Problems with the code": the back-up code by email, its page, and going back to the app.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../errors.js';
import { ACR_PASSWORD_EMAIL, acrRank, requestedAcrRank } from '../../oidc/acr.js';
import { describeLockTime } from '../../security/attempt-limits.js';
import { requestOrigin } from '../../security/audit.js';
import { completeLogin } from '../complete-login.js';
import type { InteractionDeps } from '../deps.js';
import { loadInteractionAndState, type InteractionDetails } from '../load-interaction.js';
import { countWrongCode } from '../count-wrong-code.js';
import { notifyBackupCodeUsed, notifyLockout } from '../notify-owner.js';
import { sendEmailCode } from './send-email-code.js';
import { verifyEmailCode } from './verify-email-code.js';

export type EmailCodeNotice = 'SENT' | 'FORMAT' | 'WRONG' | 'EXPIRED' | 'LIMITED' | 'SEND_FAILED' | 'LOCKED';

/**
 * Renders the page that asks for the code sent by email. It never shows the address, nor whether there is one:
 * after the password, the page is the same for every account (ASVS 6.3.8).
 */
export async function showEmailCode(ctx: Context, details: InteractionDetails, form: { notice?: EmailCodeNotice; guessesLeft?: number; wait?: string } = {}): Promise<void> {
  await ctx.render('email-code/code', { title: 'Code sent by email', uid: details.uid, ...form });
}

function describeWait(seconds: number): string {
  return seconds < 90 ? `${seconds} ${seconds === 1 ? 'second' : 'seconds'}` : describeLockTime(seconds);
}

/** Registers POST /interaction/:uid/email-code (send), /email-code/verify and /email-code/cancel. */
export function addEmailCodeRoutes(router: Router, deps: InteractionDeps): void {
  async function loginWithState(ctx: Context) {
    const [details, state] = await loadInteractionAndState(deps, ctx, 'login');
    if (!state || state.setup) throw new AppError('INTERACTION_EXPIRED');
    // The email code satisfies loa:2 only; a client asking for the app's level never gets it.
    if (requestedAcrRank(details.params) > acrRank(ACR_PASSWORD_EMAIL)) throw new AppError('FORBIDDEN');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    return { details, state, body, origin: requestOrigin(ctx, details.params['client_id']) };
  }

  router.post('/interaction/:uid/email-code', async (ctx) => {
    const { details, state, origin } = await loginWithState(ctx);
    const result = await sendEmailCode(deps, { uid: details.uid, accountId: state.accountId, ip: ctx.ip, pretend: true });
    switch (result.status) {
      case 'SEND_FAILED':
        await deps.audit.record('mfa.email.send_failed', origin, state.accountId);
        ctx.status = 503;
        return showEmailCode(ctx, details, { notice: 'SEND_FAILED' });
      case 'LIMITED':
        ctx.status = 429;
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        return showEmailCode(ctx, details, { notice: 'LIMITED', wait: describeWait(result.retryAfterSeconds) });
      case 'NOT_SENT':
      case 'SENT': {
        await deps.audit.record(result.status === 'SENT' ? 'mfa.email.sent' : 'mfa.email.not_sent', origin, state.accountId);
        await deps.loginState.save(details.uid, { ...state, emailCode: { requestedAt: deps.clock() } });
        // The first code needs no notice; a new one says that only it works now.
        return showEmailCode(ctx, details, state.emailCode ? { notice: 'SENT' } : {});
      }
    }
  });

  router.post('/interaction/:uid/email-code/verify', async (ctx) => {
    const { details, state, body, origin } = await loginWithState(ctx);
    // Without a code asked for in this login there is none stored for it either: that answers EXPIRED below.
    const result = await verifyEmailCode({ store: deps.store, codes: deps.codes, clock: deps.clock, limit: deps.limits.secondFactor }, { uid: details.uid, accountId: state.accountId, code: body['code'] });
    switch (result.status) {
      case 'OK':
        await notifyBackupCodeUsed(deps, state.accountId, origin);
        return completeLogin(deps, ctx, { interaction: details, accountId: state.accountId, method: 'email', origin, factorEvent: 'mfa.email.accepted' });
      case 'INVALID_FORMAT':
        ctx.status = 400;
        return showEmailCode(ctx, details, { notice: 'FORMAT' });
      case 'EXPIRED':
        ctx.status = 400;
        return showEmailCode(ctx, details, { notice: 'EXPIRED' });
      case 'LOCKED':
        if (result.justLocked) {
          await deps.audit.record('mfa.email.locked', origin, state.accountId, { lockSeconds: result.retryAfterSeconds });
          await notifyLockout(deps, state.accountId, 'second-factor-locked', result.retryAfterSeconds);
        }
        ctx.status = 429;
        return showEmailCode(ctx, details, { notice: 'LOCKED', wait: describeWait(result.retryAfterSeconds) });
      case 'WRONG': {
        await deps.audit.record('mfa.email.rejected', origin, state.accountId);
        const next = await countWrongCode(deps, ctx, details, state);
        if (!next) return;
        ctx.status = 401;
        return showEmailCode(ctx, details, { notice: result.guessesLeft > 0 ? 'WRONG' : 'EXPIRED', guessesLeft: result.guessesLeft });
      }
    }
  });

  router.post('/interaction/:uid/email-code/cancel', async (ctx) => {
    const { details, state } = await loginWithState(ctx);
    const { emailCode: _dropped, ...rest } = state;
    await deps.loginState.save(details.uid, rest);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}`);
  });
}
