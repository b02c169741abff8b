// /account/verify: "Confirm it's you", the password and a fresh second factor (a code from the app, or one sent by
// email) before a change that needs them; audited and told like the same steps of a login.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { requestOrigin } from '../security/audit.js';
import { maskEmail } from '../security/one-time-code.js';
import { verifyTotpLogin } from '../interactions/second-factor/verify-totp-login.js';
import { sendEmailCode } from '../interactions/email-code/send-email-code.js';
import { verifyEmailCode } from '../interactions/email-code/verify-email-code.js';
import { notifyBackupCodeUsed, notifyLockout } from '../interactions/notify-owner.js';
import { renewSessionId } from '../oidc/session-lifetime.js';
import { describeLockTime } from '../security/attempt-limits.js';
import { checkCurrentPassword, passwordLimitKey } from './check-current-password.js';
import { REAUTH_VIA, recordReauthentication, type SignedIn } from './signed-in-account.js';
import { signedInOf, type AccountDeps } from './routes.js';

// Where "confirm it's you" may send the browser back to: only our own settings pages and the console's pages (a path
// of plain segments, so never another site).
const RETURN_PATHS = new Set(['/account/two-factor', '/account/two-factor/disconnect', '/account/two-factor/connect', '/account/profile']);
const ADMIN_PATH = /^\/admin(?:\/[A-Za-z0-9._~%:-]+)*$/;
const returnPathOf = (value: unknown) => (typeof value === 'string' && (RETURN_PATHS.has(value) || ADMIN_PATH.test(value)) ? value : '/account/two-factor');
/** The console takes only the authenticator app: the email code is a way back in, not a second authenticator. */
const needsApp = (returnTo: string) => returnTo.startsWith('/admin');

/** The login id under which this session's re-checks keep their state (an email code, a secret being connected). */
export const reauthLogin = (sessionUid: string) => `account:${sessionUid}`;

/** Registers GET and POST /verify and the email-code routes under it on the /account router. */
export function addVerifyRoutes(router: Router, deps: AccountDeps, requireSignedIn: Middleware): void {
  // "Confirm it's you": a code from the app, or (Problems with the code) one sent by email.
  router.get('/verify', requireSignedIn, async (ctx) => {
    await renderVerify(ctx, deps, { returnTo: returnPathOf(ctx.query['return']) });
  });

  router.post('/verify', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const returnTo = returnPathOf(body['return']);
    const refused = await checkPasswordAgain(ctx, deps, signedIn, body['password']);
    if (refused) return renderVerify(ctx, deps, { returnTo, ...refused });
    const result = await verifyTotpLogin({ queries: deps.queries, limit: deps.limits.secondFactor, clock: deps.clock }, { accountId: signedIn.account.id, code: body['code'] });
    // Audited and told like the same step of a login (ASVS 6.3.5, 16.3.1), marked as a re-check.
    const origin = requestOrigin(ctx);
    if (result.status === 'WRONG') await deps.audit.record('mfa.totp.rejected', origin, signedIn.account.id, { reason: result.reason, via: REAUTH_VIA });
    if (result.status === 'LOCKED' && result.justLocked) {
      await deps.audit.record('mfa.totp.locked', origin, signedIn.account.id, { lockSeconds: result.retryAfterSeconds, via: REAUTH_VIA });
      await notifyLockout(deps, signedIn.account.id, 'second-factor-locked', result.retryAfterSeconds);
    }
    if (result.status !== 'OK') {
      ctx.status = result.status === 'LOCKED' ? 429 : 400;
      return renderVerify(ctx, deps, { returnTo, error: result.status });
    }
    await deps.audit.record('mfa.totp.accepted', origin, signedIn.account.id, { via: REAUTH_VIA });
    await recordReauthentication(deps.store, signedIn, deps.clock(), 'otp');
    await renewSessionId(deps.provider, ctx);
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  router.post('/verify/email-code', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const returnTo = returnPathOf((ctx.request.body as Record<string, unknown>)['return']);
    if (needsApp(returnTo)) {
      ctx.status = 400;
      return renderVerify(ctx, deps, { returnTo, error: 'APP_ONLY' });
    }
    const result = await sendEmailCode(deps, { uid: reauthLogin(signedIn.sessionUid), accountId: signedIn.account.id, ip: ctx.ip });
    if (result.status === 'SENT' || result.status === 'SEND_FAILED') {
      await deps.audit.record(result.status === 'SENT' ? 'mfa.email.sent' : 'mfa.email.send_failed', requestOrigin(ctx), signedIn.account.id, { via: REAUTH_VIA });
    }
    if (result.status !== 'SENT') ctx.status = result.status === 'LIMITED' ? 429 : result.status === 'SEND_FAILED' ? 503 : 400;
    await renderVerify(ctx, deps, { returnTo, email: result.status === 'SENT' ? maskEmail(result.email) : undefined, error: result.status === 'SENT' ? undefined : result.status });
  });

  router.post('/verify/email-code/check', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const returnTo = returnPathOf(body['return']);
    if (needsApp(returnTo)) {
      ctx.status = 400;
      return renderVerify(ctx, deps, { returnTo, error: 'APP_ONLY' });
    }
    const refused = await checkPasswordAgain(ctx, deps, signedIn, body['password']);
    if (refused) return renderVerify(ctx, deps, { returnTo, email: maskEmail(signedIn.account.email), ...refused });
    const result = await verifyEmailCode({ store: deps.store, codes: deps.codes, clock: deps.clock, limit: deps.limits.secondFactor }, { uid: reauthLogin(signedIn.sessionUid), accountId: signedIn.account.id, code: body['code'] });
    const origin = requestOrigin(ctx);
    if (result.status === 'WRONG') await deps.audit.record('mfa.email.rejected', origin, signedIn.account.id, { via: REAUTH_VIA });
    if (result.status === 'LOCKED' && result.justLocked) {
      await deps.audit.record('mfa.email.locked', origin, signedIn.account.id, { lockSeconds: result.retryAfterSeconds, via: REAUTH_VIA });
      await notifyLockout(deps, signedIn.account.id, 'second-factor-locked', result.retryAfterSeconds);
    }
    if (result.status === 'OK') {
      await deps.audit.record('mfa.email.accepted', origin, signedIn.account.id, { via: REAUTH_VIA });
      await notifyBackupCodeUsed(deps, signedIn.account.id, origin);
    }
    if (result.status !== 'OK') {
      ctx.status = result.status === 'LOCKED' ? 429 : 400;
      return renderVerify(ctx, deps, { returnTo, email: maskEmail(signedIn.account.email), error: `EMAIL_${result.status}` });
    }
    await recordReauthentication(deps.store, signedIn, deps.clock(), 'email');
    await renewSessionId(deps.provider, ctx);
    ctx.status = 303;
    ctx.redirect(returnTo);
  });
}

/**
 * The password half of the re-check, before any code is looked at (so a wrong password spends no code): under the
 * login's per-username limit and audited like a login's. Returns what to show when it is refused, and sets the status.
 */
async function checkPasswordAgain(ctx: Context, deps: AccountDeps, signedIn: SignedIn, value: unknown): Promise<{ error: string; wait?: string } | undefined> {
  const password = typeof value === 'string' ? value : '';
  if (!password) {
    ctx.status = 400;
    return { error: 'PASSWORD_MISSING' };
  }
  const { account } = signedIn;
  const result = await checkCurrentPassword({ queries: deps.queries, limit: deps.limits.password.account }, account, password);
  const origin = requestOrigin(ctx);
  switch (result.status) {
    case 'OK':
      if (result.failuresBefore) await deps.limits.password.account.reset(passwordLimitKey(account));
      return undefined;
    case 'WRONG':
      await deps.audit.record('password.failed', origin, account.id, { via: REAUTH_VIA });
      ctx.status = 400;
      return { error: 'PASSWORD_WRONG' };
    case 'LOCKED':
      await deps.audit.record('password.locked', origin, account.id, { via: REAUTH_VIA });
      if (result.justLocked) await notifyLockout(deps, account.id, 'password-locked', result.retryAfterSeconds);
      ctx.status = 429;
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return { error: 'PASSWORD_LOCKED', wait: describeLockTime(result.retryAfterSeconds) };
  }
}

async function renderVerify(ctx: Context, deps: AccountDeps, form: { returnTo: string; email?: string | undefined; error?: string | undefined; wait?: string | undefined }): Promise<void> {
  const { account } = signedInOf(ctx);
  const hasApp = await deps.queries.totp.exists(account.id);
  const appOnly = needsApp(form.returnTo);
  await ctx.render('account/verify', { title: "Confirm it's you", hasApp, appOnly, emailAvailable: !appOnly && account.emailVerifiedAt !== null, ...form });
}
