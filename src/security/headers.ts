// Security headers on every response (CSP, HSTS, no sniffing, no referrer, no framing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Middleware } from 'koa';

/** Sets the security headers; oidc-provider adds the hash of its own form_post script to this CSP. */
export function securityHeaders(): Middleware {
  const apply = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        // Clickjacking: no page of Twofold may be framed (RFC 9700 §4.16).
        'frame-ancestors': ["'none'"],
        // No form-action: after the login POST the browser must follow redirects to the client's redirect_uri.
      },
    },
    strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
  // The headers do not depend on the request: helmet computes them once, and every response gets that set.
  const headers: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let done = false;
  apply({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously: its headers cannot be computed once');
  // Not async: the headers are set before the rest runs, and its promise is passed on as it is.
  return (ctx, next) => {
    for (const name of removed) ctx.res.removeHeader(name);
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}

/** Marks a response as never to be stored by any cache (pages with credentials, codes or secrets). */
export const noStore: Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
};
