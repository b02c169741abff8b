// /account: Your settings, Edit profile, Change password, back-up email verification and Log out.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.js';
import { formPages } from '../http/form-pages.js';
import { describeLockTime } from '../security/attempt-limits.js';
import { requestOrigin } from '../security/audit.js';
import type { InteractionDeps } from '../interactions/deps.js';
import { accountLoginUrl } from './account-client.js';
import { confirmVerificationLink, peekVerificationLink, sendVerificationLink } from './email-verification.js';
import { endOtherSessions } from './end-other-sessions.js';
import { ACTIVITY_DAYS, recentActivity } from './recent-activity.js';
import { isRecentlyAuthenticated, loadSignedIn, type SignedIn } from './signed-in-account.js';
import { addPasswordRoutes } from './password-routes.js';
import { addTwoFactorRoutes } from './two-factor-routes.js';
import { addVerifyRoutes } from './verify-routes.js';
import { normalizeEmail, normalizeName } from './validate-profile.js';

export type AccountDeps = InteractionDeps;

/** The signed-in person of an /account request (set by requireSignedIn). */
export function signedInOf(ctx: Context): SignedIn {
  return ctx.state.signedIn as SignedIn;
}

/** Creates the router for /account/*. */
export function createAccountRouter(deps: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  router.use(...formPages({ secure: deps.secureCookies }));

  // Only a full Twofold session opens these pages; anyone else is sent to log in, and comes back here.
  const requireSignedIn = async (ctx: Context, next: Next) => {
    const signedIn = await loadSignedIn(deps.provider, deps.queries, ctx);
    if (!signedIn) {
      if (ctx.method !== 'GET') throw new AppError('FORBIDDEN');
      ctx.redirect(accountLoginUrl(deps.issuer));
      return;
    }
    ctx.state.signedIn = signedIn;
    ctx.state.menuUser = { name: signedIn.account.name };
    await next();
  };

  // Where the sign-in for these pages comes back: the session now exists, so go to the settings.
  router.get('/callback', async (ctx) => {
    // A refused sign-in comes back with an error instead of a code: show it rather than start over in a loop.
    if (typeof ctx.query['error'] === 'string') {
      ctx.status = 400;
      return ctx.render('error', { title: 'Error', code: 'OIDC', oidcError: ctx.query['error'], oidcDescription: ctx.query['error_description'] });
    }
    ctx.redirect(ctx.query['state'] === 'admin' ? '/admin' : '/account');
  });

  router.get('/', requireSignedIn, async (ctx) => {
    await ctx.render('account/settings', { title: 'Your settings', account: signedInOf(ctx).account, loggedOutOthers: ctx.query['others'] === 'logged-out' });
  });

  // Recent activity: read only, so a full session is enough (nothing here changes the account).
  router.get('/activity', requireSignedIn, async (ctx) => {
    const entries = await recentActivity(deps.queries, signedInOf(ctx).account.id, new Date(deps.clock()));
    await ctx.render('account/activity', { title: 'Recent activity', entries, days: ACTIVITY_DAYS });
  });

  // Log out of other sessions (ASVS 7.4.3): the account's other sessions end, and the grants this one does not hold
  // are revoked with their tokens, so applications signed in to elsewhere lose their access too.
  router.post('/logout-others', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const ended = await endOtherSessions(deps.store, signedIn, 'this-session');
    await deps.audit.record('account.sessions_ended', requestOrigin(ctx), signedIn.account.id, { ...ended });
    ctx.status = 303;
    ctx.redirect('/account?others=logged-out');
  });

  router.get('/profile', requireSignedIn, async (ctx) => {
    const { account } = signedInOf(ctx);
    const saved = ctx.query['saved'];
    await ctx.render('account/profile', { title: 'Edit profile', name: account.name, email: account.email, saved: saved === '1' || saved === 'email', emailChanged: saved === 'email' });
  });

  router.post('/profile', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const { account } = signedIn;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const name = normalizeName(body['name']);
    const email = normalizeEmail(body['email']);
    const errors = { name: !name, email: !email };
    if (!name || !email) {
      ctx.status = 400;
      return ctx.render('account/profile', { title: 'Edit profile', name: body['name'], email: body['email'], errors });
    }
    const emailChanged = email.toLowerCase() !== account.email.toLowerCase();
    // The back-up email can receive login codes: changing it needs a fresh second factor (ASVS 7.5.1).
    if (emailChanged && (await hasSecondFactor(deps, account.id, account.emailVerifiedAt)) && !(await isRecentlyAuthenticated(deps.store, signedIn, deps.clock()))) {
      ctx.status = 403;
      return ctx.render('account/profile', { title: 'Edit profile', name, email, needsVerification: true });
    }
    // Each change mails both addresses, one of them any address typed here: bounded like other mail sends (ASVS 2.4.1).
    const mailLimit = emailChanged ? await deps.limits.emailSendAccountHourly.check(account.id) : undefined;
    if (mailLimit?.status === 'LOCKED') {
      ctx.status = 429;
      ctx.set('Retry-After', String(mailLimit.retryAfterSeconds));
      return ctx.render('account/profile', { title: 'Edit profile', name, email, tooOften: describeLockTime(mailLimit.retryAfterSeconds) });
    }
    const updated = await deps.queries.accounts.updateProfile(account.id, { name, ...(emailChanged ? { email } : {}) });
    if (updated && emailChanged) {
      await deps.limits.emailSendAccountHourly.fail(account.id);
      await deps.audit.record('account.email_changed', requestOrigin(ctx), account.id);
      // Both addresses hear of the change: the old one in case it was not its owner who made it (ASVS 6.3.7).
      await deps.mailer.send({ to: account.email, template: 'email-changed', locals: { name, oldEmail: account.email, newEmail: email } });
      await sendVerificationLink(deps, updated);
    }
    ctx.status = 303;
    // After an email change the page offers to end the other sessions (ASVS 7.4.3).
    ctx.redirect(updated && emailChanged ? '/account/profile?saved=email' : '/account/profile?saved=1');
  });

  router.post('/verify-email/send', requireSignedIn, async (ctx) => {
    const { account } = signedInOf(ctx);
    const limit = await deps.limits.emailSendAccount.check(account.id);
    const result = limit.status === 'LOCKED' ? 'LIMITED' : await sendVerificationLink(deps, account);
    if (result === 'SENT') await deps.limits.emailSendAccount.fail(account.id);
    ctx.status = 303;
    ctx.redirect(`/account/two-factor?email=${result.toLowerCase()}`);
  });

  // The link in the email opens a page with a button: a GET never changes anything (ASVS 3.5.3).
  router.get('/verify-email', async (ctx) => {
    const entry = await peekVerificationLink(deps.store, ctx.query['token']);
    ctx.status = entry ? 200 : 400;
    await ctx.render('account/verify-email', { title: 'Verify your back-up email', token: entry ? ctx.query['token'] : undefined, email: entry?.email });
  });

  router.post('/verify-email', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const result = await confirmVerificationLink(deps, body['token']);
    ctx.status = result === 'VERIFIED' ? 200 : 400;
    await ctx.render('account/verify-email', { title: 'Verify your back-up email', verified: result === 'VERIFIED' });
  });

  router.post('/logout', async (ctx) => {
    const session = await deps.provider.Session.get(ctx as never);
    if (session.accountId) await session.destroy();
    // The cookie is cleared too, so nothing in this browser refers to the destroyed session.
    ctx.cookies.set(deps.provider.cookieName('session'), null);
    ctx.cookies.set(`${deps.provider.cookieName('session')}.sig`, null);
    await ctx.render('logout/done', { title: 'Logged out' });
  });

  addTwoFactorRoutes(router, deps, requireSignedIn);
  addVerifyRoutes(router, deps, requireSignedIn);
  addPasswordRoutes(router, deps, requireSignedIn);
  return router;
}

/** Whether the account has any second factor it could prove now: an app, or a verified email address. */
export async function hasSecondFactor(deps: Pick<AccountDeps, 'queries'>, accountId: string, emailVerifiedAt: Date | null): Promise<boolean> {
  return emailVerifiedAt !== null || (await deps.queries.totp.exists(accountId));
}
