// The password step of the login journey: the login page and its form.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from '../../logger.js';
import { ACR_PASSWORD } from '../../oidc/acr.js';
import { minutesToWait } from '../../security/attempt-limits.js';
import { finishInteraction, loadInteraction, type InteractionDetails } from '../load-interaction.js';
import { verifyPasswordLogin, type PasswordLoginDeps } from './verify-password-login.js';

export type LoginError = 'MISSING' | 'INVALID' | 'LOCKED';

/** Renders the login page (Username, Password, Log in). */
export async function showLogin(
  provider: Provider,
  ctx: Context,
  details: InteractionDetails,
  form: { username?: string; error?: LoginError; minutes?: number } = {},
): Promise<void> {
  const client = await provider.Client.find(String(details.params['client_id']));
  const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
  await ctx.render('login/login', {
    title: 'Log in',
    uid: details.uid,
    clientName: client?.clientName ?? client?.clientId,
    username: form.username ?? hint,
    error: form.error,
    minutes: form.minutes,
  });
}

/** Registers POST /interaction/:uid/login. */
export function addLoginRoutes(router: Router, provider: Provider, deps: PasswordLoginDeps & { logger: Logger }): void {
  router.post('/interaction/:uid/login', async (ctx) => {
    const details = await loadInteraction(provider, ctx, 'login');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const username = typeof body['username'] === 'string' ? body['username'].trim() : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    if (!username || !password) {
      ctx.status = 400;
      return showLogin(provider, ctx, details, { username, error: 'MISSING' });
    }

    const result = await verifyPasswordLogin(deps, { username, password, ip: ctx.ip });
    if (result.status === 'LOCKED') {
      deps.logger.warn({ event: 'login.locked', ip: ctx.ip }, 'login refused: attempt limit reached');
      ctx.status = 429;
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return showLogin(provider, ctx, details, { username, error: 'LOCKED', minutes: minutesToWait(result.retryAfterSeconds) });
    }
    if (result.status === 'INVALID') {
      deps.logger.info({ event: 'login.password_failed', ip: ctx.ip }, 'password login failed');
      ctx.status = 401;
      return showLogin(provider, ctx, details, { username, error: 'INVALID' });
    }

    deps.logger.info({ event: 'login.password_ok', accountId: result.account.id, ip: ctx.ip }, 'password login succeeded');
    await finishInteraction(provider, ctx, {
      login: { accountId: result.account.id, acr: ACR_PASSWORD, amr: ['pwd'], remember: true },
    });
  });
}
