// Mounts a router for the paths it serves only, so that every other request skips its route matching.
import type Router from '@koa/router';
import type { Middleware } from 'koa';

/**
 * The router's routes, tried only when the request path is one of `paths` or lies under one (`/account` covers
 * `/account/profile`). @koa/router tests every route's pattern on every request it sees; without this, a token or
 * userinfo request paid for all the pages' patterns.
 */
export function routesUnder(paths: readonly string[], router: Router): Middleware {
  const routes = router.routes() as unknown as Middleware;
  const under = paths.map((p) => `${p}/`);
  return (ctx, next) => {
    const { path } = ctx;
    return paths.includes(path) || under.some((p) => path.startsWith(p)) ? routes(ctx, next) : next();
  };
}
