// Prometheus metrics: requests by kind of endpoint, security events (logins, failures, locks), tokens issued, stores.
import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEventName } from './security/audit.js';

/** Every metric of this process; served at /metrics on METRICS_PORT when that is set. */
export const registry = new Registry();

const PREFIX = 'twofold_';

/** Recorded security events, by name: the same events as the audit log (login.succeeded, password.failed, …). */
export const auditEvents = new Counter({
  name: `${PREFIX}audit_events_total`,
  help: 'Security events recorded in the audit log, by event (login.succeeded, password.failed, mfa.totp.locked, ...)',
  labelNames: ['event'] as const,
  registers: [registry],
});

/** Token endpoint results, by grant type. */
export const tokenRequests = new Counter({
  name: `${PREFIX}token_requests_total`,
  help: 'Token endpoint requests by grant_type and outcome (issued or refused)',
  labelNames: ['grant_type', 'outcome'] as const,
  registers: [registry],
});

const httpRequests = new Histogram({
  name: `${PREFIX}http_request_duration_seconds`,
  help: 'HTTP requests by kind of endpoint, method and status class, with their duration',
  labelNames: ['endpoint', 'method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** Counts a recorded audit event. */
export function countAuditEvent(event: AuditEventName): void {
  auditEvents.inc({ event });
}

// The grant types Twofold serves; anything else a client sends is counted as "other", so labels stay few.
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

/** Counts a token endpoint request by its grant_type (as sent; unknown ones as "other"). */
export function countTokenRequest(grantType: unknown, outcome: 'issued' | 'refused'): void {
  tokenRequests.inc({ grant_type: typeof grantType === 'string' && GRANT_TYPES.has(grantType) ? grantType : 'other', outcome });
}

// Endpoint kinds by path (the path itself or anything under it), most specific first: a label per kind, never per
// path, so that ids in paths (interaction uids, client ids) cannot grow the number of series.
const ENDPOINTS: readonly [string, string][] = [
  ['/.well-known', 'discovery'],
  ['/jwks', 'jwks'],
  ['/auth', 'authorization'],
  ['/token/introspection', 'introspection'],
  ['/token/revocation', 'revocation'],
  ['/token', 'token'],
  ['/me', 'userinfo'],
  ['/session/end', 'logout'],
  ['/reg', 'registration'],
  ['/interaction', 'login'],
  ['/account', 'account'],
  ['/admin', 'admin'],
  ['/healthz', 'health'],
  ['/readyz', 'health'],
  ['/assets', 'assets'],
];

// Each base with its trailing slash, made once rather than at every request.
const UNDER = ENDPOINTS.map(([base, kind]) => [base, `${base}/`, kind] as const);

/** The kind of endpoint a path belongs to, for the `endpoint` label. */
export function endpointOf(path: string): string {
  return UNDER.find(([base, under]) => path === base || path.startsWith(under))?.[2] ?? 'other';
}

/** Times every request; installed first, so it sees the final status, error pages included. */
export function httpMetrics(): Middleware {
  return async (ctx, next) => {
    const end = httpRequests.startTimer();
    try {
      await next();
    } finally {
      end({ endpoint: endpointOf(ctx.path), method: ctx.method === 'GET' || ctx.method === 'POST' ? ctx.method : 'other', status: `${Math.floor(ctx.status / 100)}xx` });
    }
  };
}

let probes: Record<string, () => Promise<void>> = {};
let enabled = false;

// One check of the stores per scrape, shared by the two gauges below, which a scrape collects at the same time.
let lastCheck: { at: number; result: Promise<Record<string, { up: number; seconds: number }>> } | undefined;
function checkStores(): Promise<Record<string, { up: number; seconds: number }>> {
  if (!lastCheck || Date.now() - lastCheck.at > 1_000) {
    const result = Promise.all(Object.entries(probes).map(async ([store, probe]) => {
      const started = performance.now();
      const up = await probe().then(() => 1, () => 0);
      return [store, { up, seconds: (performance.now() - started) / 1000 }] as const;
    })).then((entries) => Object.fromEntries(entries));
    lastCheck = { at: Date.now(), result };
  }
  return lastCheck.result;
}

/** A gauge per store, filled at scrape time from the shared check. */
function storeGauge(name: string, help: string, value: (check: { up: number; seconds: number }) => number): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    labelNames: ['store'] as const,
    registers: [registry],
    async collect() {
      for (const [store, check] of Object.entries(await checkStores())) this.set({ store }, value(check));
    },
  });
}

storeGauge('store_up', 'Whether each store answers at scrape time (1) or not (0), as /readyz checks them', (check) => check.up);
storeGauge('store_probe_seconds', 'How long each store took to answer at scrape time', (check) => check.seconds);

/**
 * Starts collecting the process metrics (CPU, memory, event-loop delay, garbage collection), and checks the stores
 * with `storeProbes` (those of /readyz) at each scrape.
 */
export function enableMetrics(storeProbes: Record<string, () => Promise<void>>): void {
  probes = storeProbes;
  if (enabled) return;
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  enabled = true;
}
