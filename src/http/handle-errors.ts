// The last-resort error handler: an error page for browsers, JSON for API clients, never a stack trace.
import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { isStoreUnavailable } from '../storage/store-unavailable.js';

/** Flags a request whose failure came from Postgres or Redis being unreachable (set by provider events too). */
export function markStoreUnavailable(ctx: Context): void {
  ctx.state.storeUnavailable = true;
}

/** Sends an error in the form the client understands: an HTML page or a JSON body. */
export async function respondWithError(ctx: Context, code: ErrorCode, extra: Record<string, unknown> = {}): Promise<void> {
  ctx.status = ERROR_CODES[code];
  ctx.set('Cache-Control', 'no-store');
  if (ctx.accepts(['html', 'json']) === 'html' && typeof ctx.render === 'function') {
    await ctx.render('error', { title: 'Error', code, ...extra });
  } else {
    ctx.body = { error: code === 'SERVICE_UNAVAILABLE' ? 'temporarily_unavailable' : code.toLowerCase(), error_description: describe(code) };
  }
}

function describe(code: ErrorCode): string {
  switch (code) {
    case 'SERVICE_UNAVAILABLE': return 'a storage service is unreachable; retry shortly';
    case 'CSRF_INVALID': return 'the form token is missing or invalid; reload the form and try again';
    case 'INTERACTION_EXPIRED': return 'the interaction has expired; start the sign-in again';
    case 'NOT_FOUND': return 'not found';
    case 'PAYLOAD_TOO_LARGE': return 'the request body is too large';
    default: return code.toLowerCase().replace(/_/g, ' ');
  }
}

/** Catches every error below it; storage outages become 503, expected errors their status, the rest 500. */
export function handleErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.state.storeUnavailable && ctx.status >= 500) {
        // oidc-provider already answered 500 for its own endpoints; say what it really is.
        ctx.set('Retry-After', '5');
        if (ctx.response.is('json')) {
          ctx.status = 503;
          ctx.body = { error: 'temporarily_unavailable', error_description: describe('SERVICE_UNAVAILABLE') };
        } else {
          await respondWithError(ctx, 'SERVICE_UNAVAILABLE');
        }
      } else if (ctx.status === 404 && ctx.body === undefined) {
        await respondWithError(ctx, 'NOT_FOUND');
      }
    } catch (err) {
      if (isStoreUnavailable(err)) {
        logger.warn({ err: { message: (err as Error).message }, path: ctx.path }, 'storage unavailable');
        ctx.set('Retry-After', '5');
        await respondWithError(ctx, 'SERVICE_UNAVAILABLE');
        return;
      }
      if (err instanceof AppError) {
        await respondWithError(ctx, err.code);
        return;
      }
      const status = (err as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        await respondWithError(ctx, status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST');
        return;
      }
      logger.error({ err, path: ctx.path, method: ctx.method }, 'unexpected error');
      await respondWithError(ctx, 'INTERNAL').catch(() => {
        ctx.status = 500;
        ctx.body = { error: 'server_error' };
      });
    }
  };
}
