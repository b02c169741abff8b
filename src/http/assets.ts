// Serves the stylesheet (the only static file); read once at start.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';

/** Serves /assets/twofold.css from views/assets. */
export function serveAssets(viewsDir: string): Middleware {
  const css = readFileSync(path.join(viewsDir, 'assets', 'twofold.css'));
  return (ctx, next) => {
    if (ctx.path !== '/assets/twofold.css' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = css;
    return Promise.resolve();
  };
}
