// /account/password: Change password, with the current one, on Your settings.
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { describeLockTime } from '../security/attempt-limits.js';
import { requestOrigin } from '../security/audit.js';
import { notifyLockout, notifyPasswordChanged } from '../interactions/notify-owner.js';
import { changePassword } from './change-password.js';
import { endOtherSessions } from './end-other-sessions.js';
import { signedInOf, type AccountDeps } from './routes.js';

const TITLE = 'Change password';

/** Adds GET and POST /password to the /account router. */
export function addPasswordRoutes(router: Router, deps: AccountDeps, requireSignedIn: Middleware): void {
  router.get('/password', requireSignedIn, async (ctx) => {
    await ctx.render('account/password', { title: TITLE, changed: ctx.query['changed'] === '1' });
  });

  router.post('/password', requireSignedIn, async (ctx) => {
    const signedIn = signedInOf(ctx);
    const { account } = signedIn;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const origin = requestOrigin(ctx);
    const result = await changePassword({ queries: deps.queries, limit: deps.limits.password.account }, account, {
      current: body['current_password'],
      next: body['new_password'],
      repeat: body['repeat_password'],
    });
    switch (result.status) {
      case 'LOCKED':
        await deps.audit.record('password.locked', origin, account.id, { via: 'change' });
        if (result.justLocked) await notifyLockout(deps, account.id, 'password-locked', result.retryAfterSeconds);
        ctx.status = 429;
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        return ctx.render('account/password', { title: TITLE, error: 'LOCKED', wait: describeLockTime(result.retryAfterSeconds) });
      case 'WRONG_CURRENT':
        await deps.audit.record('password.failed', origin, account.id, { via: 'change' });
        ctx.status = 400;
        return ctx.render('account/password', { title: TITLE, error: 'WRONG_CURRENT' });
      case 'MISMATCH':
        ctx.status = 400;
        return ctx.render('account/password', { title: TITLE, error: 'MISMATCH' });
      case 'REFUSED':
        ctx.status = 400;
        return ctx.render('account/password', { title: TITLE, error: 'REFUSED', message: result.message });
      case 'CHANGED': {
        // Whoever signed in elsewhere with the old password is signed out, with what applications got there (ASVS 7.4.3).
        const ended = await endOtherSessions(deps.store, signedIn, 'this-session');
        await deps.audit.record('account.password_changed', origin, account.id, { ...ended });
        await notifyPasswordChanged(deps, account, origin);
        ctx.status = 303;
        return ctx.redirect('/account/password?changed=1');
      }
    }
  });
}
