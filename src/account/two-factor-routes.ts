// /account/two-factor: status, Disconnect, connecting or switching to a new phone, and confirming it is you.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import QRCode from 'qrcode';
import { AppError } from '../errors.js';
import { requestOrigin } from '../security/audit.js';
import { maskEmail } from '../security/one-time-code.js';
import { createTotpSecret, groupSecret, totpUri } from '../security/totp.js';
import { connectAuthenticator } from '../interactions/setup/connect-authenticator.js';
import { verifyTotpLogin } from '../interactions/second-factor/verify-totp-login.js';
import { sendEmailCode } from '../interactions/email-code/send-email-code.js';
import { verifyEmailCode } from '../interactions/email-code/verify-email-code.js';
import { notifyBackupCodeUsed, notifyLockout } from '../interactions/notify-owner.js';
import { endOtherSessions } from './end-other-sessions.js';
import { hasRecentSecondFactor, recordSecondFactor } from './signed-in-account.js';
import { signedInOf, type AccountDeps } from './routes.js';

type Middleware = (ctx: Context, next: Next) => Promise<void>;

// Where "confirm it's you" may send the browser back to: only our own settings pages.
const RETURN_PATHS = new Set(['/account/two-factor', '/account/two-factor/disconnect', '/account/two-factor/connect', '/account/profile']);
const returnPathOf = (value: unknown) => (typeof value === 'string' && RETURN_PATHS.has(value) ? value : '/account/two-factor');
const connectKey = (sessionUid: string) => `connect:${sessionUid}`;
const reauthLogin = (sessionUid: string) => `account:${sessionUid}`;
/** The audit log's `via` for the "Confirm it's you" re-check, to tell it from a login. */
const REAUTH = 'confirm-it-is-you';

/** Registers the two-factor pages on the /account router. */
export function addTwoFactorRoutes(router: Router, deps: AccountDeps, requireSignedIn: Middleware): void {
  const recent = (ctx: Context) => hasRecentSecondFactor(deps.store, signedInOf(ctx), deps.clock());
  const askToVerify = (ctx: Context, returnTo: string) => redirectTo(ctx, `/account/verify?return=${encodeURIComponent(returnTo)}`);

  router.get('/two-factor', requireSignedIn, async (ctx) => {
    const { account } = signedInOf(ctx);
    const totp = await deps.queries.totp.find(account.id);
    await ctx.render('account/two-factor', {
      title: 'Two-factor authentication',
      account,
      totp: totp ? { connectedAt: totp.connectedAt, lastUsedAt: totp.lastUsedAt } : undefined,
      notice: typeof ctx.query['email'] === 'string' ? `email-${ctx.query['email']}` : connectedNotice(ctx.query['connected']),
    });
  });

  router.get('/two-factor/disconnect', requireSignedIn, async (ctx) => {
    if (!(await deps.queries.totp.find(signedInOf(ctx).account.id))) return redirectTo(ctx, '/account/two-factor');
    if (!(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/disconnect');
    await ctx.render('account/disconnect', { title: 'Disconnect two-factor authentication' });
  });

  router.post('/two-factor/disconnect', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    // Removing a factor needs a second factor passed minutes ago (ASVS 7.5.1), not just a session.
    if (!(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/disconnect');
    const removed = await deps.queries.totp.disconnect(signedIn.account.id);
    if (removed) {
      // Why: what was signed in with the app must not outlive it (ASVS 6.5.6, 7.4.3): every other session ends and
      // every grant goes, with its tokens. This session stays, so that the person can log out and set up again.
      const ended = await endOtherSessions(deps.store, signedIn, 'settings');
      // Signing in with an email code and then disconnecting is account recovery (NIST SP 800-63B §4.2).
      const recovery = signedIn.amr.includes('email') || (await deps.store.getJson<{ method: string }>(`reauth:${signedIn.sessionUid}`))?.method === 'email';
      await deps.audit.record('mfa.disconnected', requestOrigin(ctx), signedIn.account.id, { recovery, ...ended });
      await deps.mailer.send({ to: signedIn.account.email, template: 'mfa-disconnected', locals: { name: signedIn.account.name, when: new Date(deps.clock()), recovery } });
    }
    await ctx.render('account/disconnected', { title: 'Two-factor authentication disconnected', sysadmin: signedIn.account.role === 'sysadmin', loggedOutElsewhere: removed });
  });

  router.get('/two-factor/connect', requireSignedIn, async (ctx) => {
    const { account, sessionUid } = signedInOf(ctx);
    const switching = (await deps.queries.totp.find(account.id)) !== undefined;
    if (switching && !(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/connect');
    let sealed = await deps.store.getJson<string>(connectKey(sessionUid));
    if (!sealed) {
      // The old secret keeps working until this one is verified; then the row is replaced in one statement.
      sealed = deps.loginState.sealSecret(reauthLogin(sessionUid), account.id, createTotpSecret());
      await deps.store.setJson(connectKey(sessionUid), sealed, 15 * 60);
    }
    await renderConnect(ctx, deps, sealed, switching, ctx.query['error'] === 'wrong' ? 'WRONG' : undefined);
  });

  router.post('/two-factor/connect', requireSignedIn, async (ctx) => {
    const { account, sessionUid } = signedInOf(ctx);
    const switching = (await deps.queries.totp.find(account.id)) !== undefined;
    if (switching && !(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/connect');
    const sealed = await deps.store.getJson<string>(connectKey(sessionUid));
    if (!sealed) throw new AppError('INTERACTION_EXPIRED');
    const secret = deps.loginState.openSecret(reauthLogin(sessionUid), account.id, sealed);
    const limit = await deps.limits.secondFactor.check(account.id);
    if (limit.status === 'LOCKED') throw new AppError('TOO_MANY_REQUESTS');
    const result = await connectAuthenticator({ queries: deps.queries, clock: deps.clock }, { accountId: account.id, secret, code: (ctx.request.body as Record<string, unknown>)['code'] });
    if (result.status !== 'CONNECTED') {
      if (result.status === 'WRONG') {
        await deps.limits.secondFactor.fail(account.id);
        await deps.audit.record('mfa.totp.rejected', requestOrigin(ctx), account.id, { reason: 'wrong', via: 'connect' });
      }
      ctx.status = 400;
      return renderConnect(ctx, deps, sealed, switching, result.status === 'WRONG' ? 'WRONG' : 'FORMAT');
    }
    await deps.store.remove(connectKey(sessionUid));
    // Why: the old secret was just replaced, so what was signed in with it ends, as with Disconnect.
    const ended = switching ? await endOtherSessions(deps.store, signedInOf(ctx), 'settings') : undefined;
    await deps.audit.record('mfa.connected', requestOrigin(ctx), account.id, { switched: switching, ...ended });
    await deps.mailer.send({ to: account.email, template: 'mfa-connected', locals: { name: account.name, when: new Date(deps.clock()) } });
    ctx.status = 303;
    ctx.redirect(`/account/two-factor?connected=${switching ? 'switched' : '1'}`);
  });

  // "Confirm it's you": a code from the app, or (Problems with the code) one sent by email.
  router.get('/verify', requireSignedIn, async (ctx) => {
    await renderVerify(ctx, deps, { returnTo: returnPathOf(ctx.query['return']) });
  });

  router.post('/verify', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const returnTo = returnPathOf(body['return']);
    const result = await verifyTotpLogin({ queries: deps.queries, limit: deps.limits.secondFactor, clock: deps.clock }, { accountId: signedIn.account.id, code: body['code'] });
    // Audited and told like the same step of a login (ASVS 6.3.5, 16.3.1), marked as a re-check.
    const origin = requestOrigin(ctx);
    if (result.status === 'WRONG') await deps.audit.record('mfa.totp.rejected', origin, signedIn.account.id, { reason: result.reason, via: REAUTH });
    if (result.status === 'LOCKED' && result.justLocked) {
      await deps.audit.record('mfa.totp.locked', origin, signedIn.account.id, { lockSeconds: result.retryAfterSeconds, via: REAUTH });
      await notifyLockout(deps, signedIn.account.id, 'second-factor-locked', result.retryAfterSeconds);
    }
    if (result.status !== 'OK') {
      ctx.status = result.status === 'LOCKED' ? 429 : 400;
      return renderVerify(ctx, deps, { returnTo, error: result.status });
    }
    await deps.audit.record('mfa.totp.accepted', origin, signedIn.account.id, { via: REAUTH });
    await recordSecondFactor(deps.store, signedIn, deps.clock(), 'otp');
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  router.post('/verify/email-code', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const returnTo = returnPathOf((ctx.request.body as Record<string, unknown>)['return']);
    const result = await sendEmailCode(deps, { uid: reauthLogin(signedIn.sessionUid), accountId: signedIn.account.id, ip: ctx.ip });
    if (result.status === 'SENT' || result.status === 'SEND_FAILED') {
      await deps.audit.record(result.status === 'SENT' ? 'mfa.email.sent' : 'mfa.email.send_failed', requestOrigin(ctx), signedIn.account.id, { via: REAUTH });
    }
    if (result.status !== 'SENT') ctx.status = result.status === 'LIMITED' ? 429 : result.status === 'SEND_FAILED' ? 503 : 400;
    await renderVerify(ctx, deps, { returnTo, email: result.status === 'SENT' ? maskEmail(result.email) : undefined, error: result.status === 'SENT' ? undefined : result.status });
  });

  router.post('/verify/email-code/check', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const body = ctx.request.body as Record<string, unknown>;
    const returnTo = returnPathOf(body['return']);
    const result = await verifyEmailCode({ store: deps.store, codes: deps.codes, clock: deps.clock, limit: deps.limits.secondFactor }, { uid: reauthLogin(signedIn.sessionUid), accountId: signedIn.account.id, code: body['code'] });
    const origin = requestOrigin(ctx);
    if (result.status === 'WRONG') await deps.audit.record('mfa.email.rejected', origin, signedIn.account.id, { via: REAUTH });
    if (result.status === 'LOCKED' && result.justLocked) {
      await deps.audit.record('mfa.email.locked', origin, signedIn.account.id, { lockSeconds: result.retryAfterSeconds, via: REAUTH });
      await notifyLockout(deps, signedIn.account.id, 'second-factor-locked', result.retryAfterSeconds);
    }
    if (result.status === 'OK') {
      await deps.audit.record('mfa.email.accepted', origin, signedIn.account.id, { via: REAUTH });
      await notifyBackupCodeUsed(deps, signedIn.account.id, origin);
    }
    if (result.status !== 'OK') {
      ctx.status = result.status === 'LOCKED' ? 429 : 400;
      return renderVerify(ctx, deps, { returnTo, email: maskEmail(signedIn.account.email), error: `EMAIL_${result.status}` });
    }
    await recordSecondFactor(deps.store, signedIn, deps.clock(), 'email');
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

}

function connectedNotice(value: unknown): string | undefined {
  if (value === 'switched') return 'switched';
  return value === '1' ? 'connected' : undefined;
}

function redirectTo(ctx: Context, path: string): void {
  ctx.status = 303;
  ctx.redirect(path);
}

async function renderConnect(ctx: Context, deps: AccountDeps, sealed: string, switching: boolean, error?: 'WRONG' | 'FORMAT'): Promise<void> {
  const { account, sessionUid } = signedInOf(ctx);
  const secret = deps.loginState.openSecret(reauthLogin(sessionUid), account.id, sealed);
  const qr = await QRCode.toDataURL(totpUri({ issuer: deps.config.totpIssuer, accountName: account.username, secret }), { errorCorrectionLevel: 'M', margin: 4, width: 264 });
  await ctx.render('account/connect', { title: switching ? 'Switch to a new phone' : 'Connect your authenticator app', switching, qr, secret, groups: groupSecret(secret), error });
}

async function renderVerify(ctx: Context, deps: AccountDeps, form: { returnTo: string; email?: string | undefined; error?: string | undefined }): Promise<void> {
  const { account } = signedInOf(ctx);
  const hasApp = (await deps.queries.totp.find(account.id)) !== undefined;
  await ctx.render('account/verify', { title: "Confirm it's you", hasApp, emailAvailable: account.emailVerifiedAt !== null, ...form });
}
