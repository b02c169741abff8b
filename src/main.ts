// Starts Twofold: read config, open the stores, build the app, listen; shut down gracefully on SIGTERM.
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createApp } from './app.js';
import { openStorage, type Storage } from './storage/open-storage.js';
import { loadProviderKeys, type ProviderKeys } from './oidc/signing-keys.js';
import { resolveSecretKey } from './security/secret-key.js';
import { createMailer } from './mail/mailer.js';
import { viewsDir } from './paths.js';
import { compileTemplates } from './templates.js';
import { countAuditEvent, enableMetrics } from './metrics.js';
import { startMetricsServer } from './http/metrics-server.js';
import { observeAuditEvents } from './security/audit.js';

/** Retries `step` until it succeeds: at start-up Postgres may still be coming up. */
async function untilReady<T>(logger: Logger, what: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= 30) throw err;
      logger.warn({ attempt, err: { message: (err as Error).message } }, `${what} failed; retrying in 2s`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

const REDIS_BACKENDS = { standalone: 'Redis (REDIS_URL)', sentinel: 'Redis Sentinel (REDIS_SENTINELS)', cluster: 'Redis Cluster (REDIS_CLUSTER_NODES)' } as const;

async function start(config: Config, logger: Logger): Promise<{ server: Server; metricsServer: Server | undefined; storage: Storage; keys: ProviderKeys }> {
  // Compiled while the stores open; a template that does not compile stops the start here.
  const compiling = compileTemplates(viewsDir);
  compiling.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
  const secret = await resolveSecretKey(config);
  if (secret.source === 'generated') logger.warn({ file: `${config.dataDir}/secret.key` }, 'generated a development SECRET_KEY; keep this file, it decrypts stored secrets');
  const storage = await untilReady(logger, 'opening storage', () => openStorage({ config, logger, secretKey: secret.key, mode: 'server' }));
  const keys = await untilReady(logger, 'loading signing keys', () => loadProviderKeys(storage.queries, { idTokenTtl: config.lifetimes.idToken, logger }));

  const postgres = storage.databaseKind === 'embedded' ? `embedded Postgres (PGlite) in ${config.dataDir}/postgres` : 'Postgres (DATABASE_URL)';
  const redis = config.redis ? REDIS_BACKENDS[config.redis.mode] : 'in-process store (sessions are lost on restart)';
  const mail = config.smtpUrl ? 'SMTP (SMTP_URL)' : `development outbox in ${config.dataDir}/outbox (also at ${config.issuer}/dev/outbox)`;
  logger.warn({ postgres, redis, mail, issuer: config.issuer }, `BACKENDS: ${postgres} | ${redis} | ${mail}`);

  if (config.metrics) {
    // Before the first request, so that every one is counted.
    enableMetrics(storage.probes);
    observeAuditEvents(countAuditEvent);
  }
  const templates = await compiling;
  const mailer = createMailer({ smtpUrl: config.smtpUrl, mailFrom: config.mailFrom, dataDir: config.dataDir, logger, templates, issuer: config.issuer });
  const app = createApp({ config, logger, queries: storage.queries, shortLived: storage.shortLived, redis: storage.redis, clientChanges: storage.clientChanges, keys, probes: storage.probes, secretKey: secret.key, mailer, templates });
  (app as unknown as NodeJS.EventEmitter).on('error', (err: Error & { code?: string }) => {
    // Client disconnects and aborted requests are not server faults.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED') return;
    logger.error({ err }, 'unhandled application error');
  });
  const server = app.listen(config.port, config.host);
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  let metricsServer: Server | undefined;
  if (config.metrics) {
    try {
      metricsServer = await startMetricsServer({ ...config.metrics, logger });
    } catch (err) {
      server.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw Object.assign(new Error(`METRICS_PORT ${config.metrics.port} is already in use; stop the other process or set another METRICS_PORT`), { code: 'METRICS_IN_USE' });
      throw err;
    }
    logger.info({ metrics: `http://${config.metrics.host}:${config.metrics.port}/metrics` }, `metrics at http://${config.metrics.host}:${config.metrics.port}/metrics`);
  }
  logger.info({ port: config.port, issuer: config.issuer }, `Twofold is listening on ${config.issuer} (discovery: ${config.issuer}/.well-known/openid-configuration)`);
  return { server, metricsServer, storage, keys };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start(config, logger);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') logger.fatal(`port ${config.port} is already in use; stop the other process or set PORT`);
    else logger.fatal({ err: { message: e.message } }, `Twofold could not start: ${e.message}`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const force = setTimeout(() => {
      logger.warn('requests still running after 10s; closing anyway');
      running.server.closeAllConnections();
    }, 10_000);
    force.unref();
    running.server.close(() => {
      running.keys.signing.stop();
      running.storage
        .close()
        .catch((err: Error) => logger.error({ err }, 'closing storage failed'))
        .finally(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    running.server.closeIdleConnections();
    running.metricsServer?.close();
    running.metricsServer?.closeAllConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
}

await main();
