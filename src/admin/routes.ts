// /admin: the console for sysadmins signed in with their authenticator app (urn:twofold:loa:3).
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.js';
import { formPages } from '../http/form-pages.js';
import { ACR_PASSWORD_TOTP, acrRank } from '../oidc/acr.js';
import { requestOrigin } from '../security/audit.js';
import type { InteractionDeps } from '../interactions/deps.js';
import { accountLoginUrl } from '../account/account-client.js';
import { isRecentlyAuthenticated, loadSignedIn, type SignedIn } from '../account/signed-in-account.js';

export type AdminDeps = InteractionDeps;
type Registrar = (router: Router, deps: AdminDeps) => void;

/** The administrator of an /admin request (set by the access check). */
export function adminOf(ctx: Context): SignedIn {
  return ctx.state.admin as SignedIn;
}

/**
 * Creates the router for /admin/*. Each section (clients, accounts, audit log) registers its own routes; all of
 * them sit behind the access check below.
 */
export function createAdminRouter(deps: AdminDeps, sections: Registrar[]): Router {
  const router = new Router({ prefix: '/admin' });
  router.use(...formPages({ secure: deps.secureCookies }));
  router.use(requireAdmin(deps, router));

  router.get('/', async (ctx) => {
    await ctx.render('admin/home', { title: 'Administration' });
  });
  for (const register of sections) register(router, deps);
  return router;
}

/**
 * Only sysadmins whose session passed the authenticator app: everyone else is sent to sign in, a weaker session
 * of a sysadmin is stepped up through the same interaction policy, and other accounts are refused. A change (any
 * POST), and the page of its form, also need the password and the app passed in the last few minutes: at the
 * login, or on "Confirm it's you" (ASVS 7.5.1; a session left open must not be enough to act on everyone's data).
 */
function requireAdmin(deps: AdminDeps, router: Router) {
  const changes = (ctx: Context) => ctx.method === 'POST' || router.match(ctx.path, 'POST').route;
  return async (ctx: Context, next: Next) => {
    const signedIn = await loadSignedIn(deps.provider, deps.queries, ctx);
    const stepUp = () => {
      if (ctx.method !== 'GET') throw new AppError('FORBIDDEN');
      ctx.redirect(accountLoginUrl(deps.issuer, { acrValues: ACR_PASSWORD_TOTP, returnTo: 'admin' }));
    };
    if (!signedIn) return stepUp();
    if (signedIn.account.role !== 'sysadmin') {
      await deps.audit.record('admin.refused', requestOrigin(ctx), signedIn.account.id, { path: ctx.path });
      throw new AppError('FORBIDDEN');
    }
    // A postponed (password-only) or email-code session is not enough to administer everyone's data.
    if (acrRank(signedIn.acr) < acrRank(ACR_PASSWORD_TOTP)) return stepUp();
    if (changes(ctx) && !(await isRecentlyAuthenticated(deps.store, signedIn, deps.clock(), { appCodeOnly: true }))) {
      // Back to the form's page afterwards (every form is served by a GET on the path it posts to).
      ctx.status = ctx.method === 'GET' ? 302 : 303;
      return ctx.redirect(`/account/verify?return=${encodeURIComponent(ctx.path)}`);
    }
    ctx.state.admin = signedIn;
    ctx.state.menuUser = { name: signedIn.account.name, admin: true };
    await next();
  };
}
