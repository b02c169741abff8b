// Per-address rate limits on dynamic registration (RFC 7591) and its management (RFC 7592), before oidc-provider sees the request.
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.js';
import type { AttemptLimit } from '../security/attempt-limits.js';
import { isStoreUnavailable } from '../storage/store-unavailable.js';

export interface RegistrationLimits {
  /** POST to the registration endpoint, with or without a valid initial access token. */
  create: AttemptLimit;
  /** GET, PUT and DELETE of a registration, with or without a valid registration access token. */
  manage: AttemptLimit;
}

const MANAGEMENT_METHODS = new Set(['GET', 'PUT', 'DELETE']);

/**
 * Counts every registration and management request against its source IP and refuses those over the limit with 429,
 * Retry-After and an OAuth error body. Checked first, so a refused request costs no token lookup, validation or
 * audit row.
 */
export function limitRegistration(provider: Provider, limits: RegistrationLimits, logger: Logger): Middleware {
  const endpoint = provider.pathFor('registration');
  const limitFor = (ctx: Context): AttemptLimit | undefined => {
    if (ctx.path === endpoint) return ctx.method === 'POST' ? limits.create : undefined;
    return ctx.path.startsWith(`${endpoint}/`) && MANAGEMENT_METHODS.has(ctx.method) ? limits.manage : undefined;
  };

  const limited = async (ctx: Context, next: Next, limit: AttemptLimit) => {
    let result;
    try {
      result = await limit.take(ctx.ip);
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      // Fail closed, in the JSON that registration clients read: nothing is registered while the count cannot be kept.
      logger.warn({ err: { message: (err as Error).message }, path: ctx.path }, 'storage unavailable');
      return refuse(ctx, 503, 5, 'a storage service is unreachable; retry shortly');
    }
    if (result.status === 'LOCKED') {
      logger.debug({ path: ctx.path, method: ctx.method, ip: ctx.ip }, 'registration request over the rate limit');
      return refuse(ctx, 429, result.retryAfterSeconds, 'too many registration requests from this address; retry after the time in Retry-After');
    }
    return next();
  };
  // Every other request goes straight on: no async frame of its own.
  return (ctx, next) => {
    const limit = limitFor(ctx);
    return limit ? limited(ctx, next, limit) : next();
  };
}

/**
 * OAuth has no error code for a rate limit: temporarily_unavailable (RFC 6749 §4.1.2.1) is the registered one that
 * says "retry later", the status (429, RFC 6585 §4) says why and Retry-After when. slow_down (RFC 8628 §3.5) is
 * device-flow polling only.
 */
function refuse(ctx: Context, status: number, retryAfterSeconds: number, description: string): void {
  ctx.status = status;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'temporarily_unavailable', error_description: description };
}
