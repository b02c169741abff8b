// /account/two-factor: status, Disconnect, and connecting or switching to a new phone.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.js';
import { requestOrigin } from '../security/audit.js';
import { createTotpSecret, groupSecret, totpQrCode } from '../security/totp.js';
import { connectAuthenticator } from '../interactions/setup/connect-authenticator.js';
import { endOtherSessions } from './end-other-sessions.js';
import { isRecentlyAuthenticated, lastReauthMethod } from './signed-in-account.js';
import { signedInOf, type AccountDeps } from './routes.js';
import { reauthLogin } from './verify-routes.js';

type Middleware = (ctx: Context, next: Next) => Promise<void>;

const connectKey = (sessionUid: string) => `connect:${sessionUid}`;

/** Registers the two-factor pages on the /account router. */
export function addTwoFactorRoutes(router: Router, deps: AccountDeps, requireSignedIn: Middleware): void {
  const recent = (ctx: Context) => isRecentlyAuthenticated(deps.store, signedInOf(ctx), deps.clock());
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
    if (!(await deps.queries.totp.exists(signedInOf(ctx).account.id))) return redirectTo(ctx, '/account/two-factor');
    if (!(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/disconnect');
    await ctx.render('account/disconnect', { title: 'Disconnect two-factor authentication' });
  });

  router.post('/two-factor/disconnect', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    // Removing a factor needs the password and a second factor passed minutes ago (ASVS 7.5.1), not just a session.
    if (!(await recent(ctx))) return askToVerify(ctx, '/account/two-factor/disconnect');
    const removed = await deps.queries.totp.disconnect(signedIn.account.id);
    if (removed) {
      // Why: what was signed in with the app must not outlive it (ASVS 6.5.6, 7.4.3): every other session ends and
      // every grant goes, with its tokens. This session stays, so that the person can log out and set up again.
      const ended = await endOtherSessions(deps.store, signedIn, 'settings');
      // Signing in with an email code and then disconnecting is account recovery (NIST SP 800-63B §4.2).
      const recovery = signedIn.amr.includes('email') || (await lastReauthMethod(deps.store, signedIn)) === 'email';
      await deps.audit.record('mfa.disconnected', requestOrigin(ctx), signedIn.account.id, { recovery, ...ended });
      await deps.mailer.send({ to: signedIn.account.email, template: 'mfa-disconnected', locals: { name: signedIn.account.name, when: new Date(deps.clock()), recovery } });
    }
    await ctx.render('account/disconnected', { title: 'Two-factor authentication disconnected', sysadmin: signedIn.account.role === 'sysadmin', loggedOutElsewhere: removed });
  });

  router.get('/two-factor/connect', requireSignedIn, async (ctx) => {
    const { account, sessionUid } = signedInOf(ctx);
    const switching = await deps.queries.totp.exists(account.id);
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
    const switching = await deps.queries.totp.exists(account.id);
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
  const qr = await totpQrCode({ issuer: deps.config.totpIssuer, accountName: account.username, secret });
  await ctx.render('account/connect', { title: switching ? 'Switch to a new phone' : 'Connect your authenticator app', switching, qr, secret, groups: groupSecret(secret), error });
}
