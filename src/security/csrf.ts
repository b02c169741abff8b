// CSRF protection for every form: a per-browser secret in a signed cookie, and a token derived from it in each form.
import Tokens from 'csrf';
import type { Middleware } from 'koa';
import { AppError } from '../errors.js';
import { cookieNames } from '../http/cookie-names.js';

/** Issues ctx.state.csrfToken for forms and refuses state-changing requests without a valid one. */
export function csrfProtection(options: { secure: boolean }): Middleware {
  const tokens = new Tokens();
  const cookie = cookieNames(options.secure).csrf;
  return async (ctx, next) => {
    let secret = ctx.cookies.get(cookie, { signed: true });
    if (!secret) {
      secret = tokens.secretSync();
      ctx.cookies.set(cookie, secret, { httpOnly: true, sameSite: 'lax', signed: true, secure: options.secure, path: '/', overwrite: true });
    }
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      const body = (ctx.request as { body?: Record<string, unknown> }).body;
      const token = typeof body?.['_csrf'] === 'string' ? body['_csrf'] : undefined;
      // A forged cross-site POST has no way to read our cookie, so it cannot present a matching token.
      if (!token || !tokens.verify(secret, token)) throw new AppError('CSRF_INVALID');
    }
    ctx.state.csrfToken = tokens.create(secret);
    await next();
  };
}
