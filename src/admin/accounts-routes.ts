// /admin/accounts: find, create and look at accounts; the changes to one account and the sysadmins' 2FA view
// register from here too, so the console's sections list names this one registrar.
import type Router from '@koa/router';
import { MAX_POSTPONEMENTS } from '../interactions/second-factor/plan-second-factor.js';
import { addAccountChangeRoutes } from './account-changes-routes.js';
import { addComplianceRoutes } from './compliance-routes.js';
import { actorOf, loadAccount, redirectTo } from './admin-request.js';
import { createAccount } from './create-account.js';
import { adminOf, type AdminDeps } from './routes.js';

export const ACCOUNTS_PAGE_SIZE = 50;
const NOTICES = new Set(['created', 'role', 'disabled', 'enabled', 'reset']);

/** Registers the Accounts and Sysadmins' 2FA sections on the /admin router. */
export function addAccountsSection(router: Router, deps: AdminDeps): void {
  router.get('/accounts', async (ctx) => {
    const q = queryText(ctx.query['q'], 100);
    const after = queryText(ctx.query['after'], 64);
    const { accounts, next } = await deps.queries.oversight.search({ query: q, after: after || undefined, limit: ACCOUNTS_PAGE_SIZE });
    await ctx.render('admin/accounts/list', { title: 'Accounts', q, after, accounts, next });
  });

  // Before /accounts/:id, so "new" is never read as an id.
  router.get('/accounts/new', async (ctx) => {
    await ctx.render('admin/accounts/new', { title: 'New account', form: { role: 'user' }, errors: {} });
  });

  router.post('/accounts/new', async (ctx) => {
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    const result = await createAccount(deps, form, actorOf(ctx));
    if (result.status === 'INVALID') {
      ctx.status = 400;
      // The password is never sent back to the browser.
      const { password: _password, ...kept } = form;
      return ctx.render('admin/accounts/new', { title: 'New account', form: kept, errors: result.errors, passwordMessage: result.passwordMessage });
    }
    redirectTo(ctx, `/admin/accounts/${result.account.id}?done=created`);
  });

  router.get('/accounts/:id', async (ctx) => {
    const account = await loadAccount(deps.queries, ctx);
    const totp = await deps.queries.totp.find(account.id);
    const done = typeof ctx.query['done'] === 'string' && NOTICES.has(ctx.query['done']) ? ctx.query['done'] : undefined;
    await ctx.render('admin/accounts/show', {
      title: account.username,
      account,
      self: account.id === adminOf(ctx).account.id,
      totp: totp ? { connectedAt: totp.connectedAt, lastUsedAt: totp.lastUsedAt } : undefined,
      postponementsLeft: Math.max(0, MAX_POSTPONEMENTS - account.mfaPostponementsUsed),
      done,
      mailFailed: ctx.query['mail'] === 'failed',
    });
  });

  addAccountChangeRoutes(router, deps);
  addComplianceRoutes(router, deps);
}

function queryText(value: unknown, max: number): string {
  return typeof value === 'string' ? value.trim().slice(0, max) : '';
}
