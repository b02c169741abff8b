// Mounts a middleware or router for the paths it serves only, so that every other request skips it.
import type Router from '@koa/router';
import type { Middleware } from 'koa';

/**
 * `middleware`, run only when the request path is one of `paths` or lies under one (`/account` covers
 * `/account/profile`); every other request goes straight on, without an async frame of its own.
 */
export function onlyUnder(paths: readonly string[], middleware: Middleware): Middleware {
  const under = paths.map((p) => `${p}/`);
  return (ctx, next) => {
    const { path } = ctx;
    return paths.includes(path) || under.some((p) => path.startsWith(p)) ? middleware(ctx, next) : next();
  };
}

/**
 * The router's routes, tried only for `paths` (see onlyUnder). @koa/router tests every route's pattern on every
 * request it sees; without this, a token or userinfo request paid for all the pages' patterns.
 */
export function routesUnder(paths: readonly string[], router: Router): Middleware {
  return onlyUnder(paths, router.routes() as unknown as Middleware);
}
