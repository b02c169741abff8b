// With an https ISSUER, the pages that set cookies are refused when a request did not come over https.
import type { Middleware } from 'koa';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The browser-facing paths: oidc-provider's authorization and logout endpoints, and Twofold's own pages. */
export const BROWSER_PATHS = ['/auth', '/session', '/interaction', '/account', '/admin'] as const;

// How often the operator is told again, at most.
const WARN_EVERY_MS = 60_000;

/**
 * Twofold serves plain http behind a TLS-terminating proxy, and learns that a request came over https only from the
 * proxy's X-Forwarded-Proto (with TRUST_PROXY=true). Without it, the Secure and __Host- cookies of a login cannot
 * be set: the browser would loop back to the login. So such a request gets a page that says what is wrong instead,
 * and the log says what to fix. Other endpoints (health, discovery, token) set no cookie and are left alone.
 */
export function requireHttpsForBrowsers(logger: Logger, now: () => number = Date.now): Middleware {
  const under = BROWSER_PATHS.map((p) => `${p}/`);
  let warnedAt = -Infinity;
  return async (ctx, next) => {
    const { path } = ctx;
    if (ctx.secure || !(BROWSER_PATHS.some((p) => p === path) || under.some((p) => path.startsWith(p)))) return next();
    if (now() - warnedAt >= WARN_EVERY_MS) {
      warnedAt = now();
      logger.warn({ path, forwardedProto: ctx.get('x-forwarded-proto') || undefined }, 'a browser request came over plain http, but ISSUER is https: the proxy in front of Twofold must send X-Forwarded-Proto: https (and TRUST_PROXY must be true)');
    }
    throw new AppError('HTTPS_REQUIRED');
  };
}
