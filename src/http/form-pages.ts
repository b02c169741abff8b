// What every router of pages with forms needs: no caching, a bounded form parser, and CSRF protection.
import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { AppError } from '../errors.js';
import { csrfProtection } from '../security/csrf.js';
import { noStore } from '../security/headers.js';

/** Middleware for pages with forms: Cache-Control no-store, a 16 KB urlencoded body limit, and CSRF tokens. */
export function formPages(options: { secure: boolean }): Middleware[] {
  return [
    // Pages with credentials, codes and 2FA keys are never stored by any cache (ASVS 14.3.2).
    noStore,
    bodyParser({
      enableTypes: ['form'],
      formLimit: '16kb',
      onError: (err) => {
        throw new AppError((err as { status?: number }).status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST');
      },
    }),
    csrfProtection({ secure: options.secure }),
  ];
}
