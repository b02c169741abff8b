// /healthz (the process is alive) and /readyz (Postgres and Redis answer).
import Router from '@koa/router';

export type ReadinessProbe = () => Promise<void>;

/** Creates the health routes; each probe throws when its service is unreachable. */
export function createHealthRouter(probes: Record<string, ReadinessProbe>): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks: Record<string, 'ok' | 'unavailable'> = {};
    await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        checks[name] = await probe().then(() => 'ok' as const, () => 'unavailable' as const);
      }),
    );
    const ready = Object.values(checks).every((state) => state === 'ok');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  });
  return router;
}
