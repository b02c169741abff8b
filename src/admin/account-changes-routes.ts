// /admin/accounts/:id/…: change the role, disable or enable, and reset the 2FA of one account, each after a
// confirmation page.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors.js';
import type { Account } from '../storage/queries.js';
import { actorOf, loadAccount, redirectTo } from './admin-request.js';
import { changeRole, parseRole } from './change-role.js';
import { RESET_REASON_MAX, RESET_REASON_MIN, resetTwoFactor } from './reset-two-factor.js';
import { setAccountDisabled } from './set-account-disabled.js';
import { adminOf, type AdminDeps } from './routes.js';

/** Registers the pages that change one account. */
export function addAccountChangeRoutes(router: Router, deps: AdminDeps): void {
  const isSelf = (ctx: Context, account: Account) => account.id === adminOf(ctx).account.id;

  router.get('/accounts/:id/role', async (ctx) => {
    const account = await loadAccount(deps.queries, ctx);
    const to = parseRole(ctx.query['to']);
    if (!to) throw new AppError('BAD_REQUEST');
    if (to === account.role) return redirectTo(ctx, `/admin/accounts/${account.id}`);
    const refused = isSelf(ctx, account) && to !== 'sysadmin' ? 'SELF_DEMOTION' : undefined;
    if (refused) ctx.status = 403;
    await ctx.render('admin/accounts/role', { title: 'Change the role', account, to, refused });
  });

  router.post('/accounts/:id/role', async (ctx) => {
    const account = await loadAccount(deps.queries, ctx);
    const to = parseRole((ctx.request.body as Record<string, unknown>)['to']);
    if (!to) throw new AppError('BAD_REQUEST');
    const result = await changeRole(deps, account, to, actorOf(ctx));
    if (result.status === 'SELF_DEMOTION') {
      ctx.status = 403;
      return ctx.render('admin/accounts/role', { title: 'Change the role', account, to, refused: 'SELF_DEMOTION' });
    }
    redirectTo(ctx, `/admin/accounts/${account.id}${result.status === 'CHANGED' ? '?done=role' : ''}`);
  });

  for (const action of ['disable', 'enable'] as const) {
    const disabled = action === 'disable';
    router.get(`/accounts/:id/${action}`, async (ctx) => {
      const account = await loadAccount(deps.queries, ctx);
      if (account.disabled === disabled) return redirectTo(ctx, `/admin/accounts/${account.id}`);
      const refused = disabled && isSelf(ctx, account) ? 'SELF' : undefined;
      if (refused) ctx.status = 403;
      await ctx.render('admin/accounts/status', { title: disabled ? 'Disable the account' : 'Enable the account', account, action, refused });
    });

    router.post(`/accounts/:id/${action}`, async (ctx) => {
      const account = await loadAccount(deps.queries, ctx);
      const result = await setAccountDisabled(deps, account, disabled, actorOf(ctx));
      if (result.status === 'SELF') {
        ctx.status = 403;
        return ctx.render('admin/accounts/status', { title: 'Disable the account', account, action, refused: 'SELF' });
      }
      redirectTo(ctx, `/admin/accounts/${account.id}${result.status === 'CHANGED' ? `?done=${action}d` : ''}`);
    });
  }

  const renderReset = async (ctx: Context, account: Account, view: { refused?: string; errors?: object; reason?: string } = {}) => {
    await ctx.render('admin/accounts/reset-2fa', { title: 'Reset two-factor authentication', account, min: RESET_REASON_MIN, max: RESET_REASON_MAX, errors: {}, ...view });
  };

  router.get('/accounts/:id/reset-2fa', async (ctx) => {
    const account = await loadAccount(deps.queries, ctx);
    if (isSelf(ctx, account)) ctx.status = 403;
    else if (!(await deps.queries.totp.exists(account.id))) ctx.status = 409;
    await renderReset(ctx, account, { refused: ctx.status === 403 ? 'SELF' : ctx.status === 409 ? 'NOT_CONNECTED' : undefined });
  });

  router.post('/accounts/:id/reset-2fa', async (ctx) => {
    const account = await loadAccount(deps.queries, ctx);
    const result = await resetTwoFactor(deps, account, (ctx.request.body ?? {}) as Record<string, unknown>, actorOf(ctx));
    switch (result.status) {
      case 'RESET':
        return redirectTo(ctx, `/admin/accounts/${account.id}?done=reset${result.mail === 'FAILED' ? '&mail=failed' : ''}`);
      case 'INVALID':
        ctx.status = 400;
        return renderReset(ctx, account, { errors: result.errors, reason: result.reason });
      case 'SELF':
        ctx.status = 403;
        return renderReset(ctx, account, { refused: 'SELF' });
      case 'NOT_CONNECTED':
        ctx.status = 409;
        return renderReset(ctx, account, { refused: 'NOT_CONNECTED' });
    }
  });
}
