// createApp(deps): the Koa application — oidc-provider with Twofold's pages, security headers and error pages.
import views from 'koa-views';
import type Provider from 'oidc-provider';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { viewsDir } from './paths.js';
import type { Queries } from './storage/queries.js';
import type { ShortLivedStore } from './storage/short-lived/short-lived-store.js';
import type { RedisClient } from './storage/short-lived/connect-redis.js';
import type { ClientChanges } from './storage/short-lived/client-changes.js';
import { createProvider } from './oidc/create-provider.js';
import { createAccountCache } from './oidc/account-cache.js';
import type { ProviderKeys } from './oidc/signing-keys.js';
import { createInteractionRouter } from './interactions/router.js';
import { CODE_LIMITS, createAttemptLimit, createPasswordIpLimit, EMAIL_SEND_LIMITS, PASSWORD_LIMITS, REGISTRATION_LIMITS } from './security/attempt-limits.js';
import { limitRegistration } from './oidc/limit-registration.js';
import { hashedSecretsInRegistration } from './oidc/hashed-client-secrets.js';
import { createClientSecretHasher } from './security/client-secrets.js';
import { extendSessionOnUse, sessionLifetimes } from './oidc/session-lifetime.js';
import { createAuditLog } from './security/audit.js';
import { createCipher } from './security/encryption.js';
import { systemClock, type Clock } from './security/totp.js';
import { createLoginStateStore } from './interactions/login-state.js';
import { createSendTimer } from './interactions/email-code/send-email-code.js';
import { reportPasswordSurge } from './interactions/login/report-password-surge.js';
import type { InteractionDeps } from './interactions/deps.js';
import { createAccountRouter } from './account/routes.js';
import { createAdminRouter } from './admin/routes.js';
import { ADMIN_SECTIONS } from './admin/sections.js';
import type { Mailer } from './mail/mailer.js';
import type { Templates } from './templates.js';
import { createOutboxRouter, outboxPageEnabled } from './mail/outbox-routes.js';
import { createOneTimeCodes } from './security/one-time-code.js';
import { securityHeaders } from './security/headers.js';
import { requireHttpsForBrowsers } from './http/require-https.js';
import { isHttpsIssuer } from './http/cookie-names.js';
import { handleErrors } from './http/handle-errors.js';
import { awaitRequestWrites } from './oidc/request-writes.js';
import { routesUnder } from './http/routes-under.js';
import { createHealthRouter, type ReadinessProbe } from './http/health.js';
import { serveAssets } from './http/assets.js';
import { httpMetrics } from './metrics.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  queries: Queries;
  shortLived: ShortLivedStore;
  /** The Redis client when Redis is configured; attempt limits then live in Redis, shared by every node. */
  redis: RedisClient | undefined;
  /** Client changes shared with the other nodes (Storage.clientChanges). */
  clientChanges: ClientChanges | undefined;
  keys: ProviderKeys;
  probes: Record<string, ReadinessProbe>;
  /** The key for encryption at rest (pending 2FA secrets in Redis are sealed with it too). */
  secretKey: Buffer;
  /** The clock for TOTP; only tests pass another one. */
  clock?: Clock;
  mailer: Mailer;
  /** The compiled views (compileTemplates). */
  templates: Templates;
}

type RenderingContext = { render(view: string, locals?: object): Promise<void> };

/** Builds the whole HTTP application; the returned Provider is a Koa app (use .callback() or .listen()). */
export function createApp(deps: AppDeps): Provider {
  const accountCache = createAccountCache(deps.queries, deps.clientChanges);
  const clientSecrets = createClientSecretHasher(deps.secretKey);
  const provider = createProvider({ ...deps, accountCache, clientSecrets });
  const secureCookies = isHttpsIssuer(deps.config.issuer);
  const limitStore = { redis: deps.redis, prefix: deps.config.redisPrefix };

  // First, so that it times every request and sees its final status, error pages included.
  if (deps.config.metrics) provider.use(httpMetrics());
  // In development each page is compiled again at every render, so that an edited view shows at once.
  const live = deps.config.nodeEnv === 'development';
  const compiled = { pug: async (file: string, locals: Record<string, unknown>) => deps.templates.get(file)(locals) };
  provider.use(views(viewsDir, { extension: 'pug', options: { cache: !live, basedir: viewsDir }, ...(live ? {} : { engineSource: compiled }) }));
  provider.use((ctx, next) => {
    // koa-views looks a view up on disk at every render, twice without the extension (a miss, then a hit);
    // naming the file in full halves that work on every page.
    const render = (ctx as unknown as RenderingContext).render;
    (ctx as unknown as RenderingContext).render = (view, locals) => render(view.endsWith('.pug') ? view : `${view}.pug`, locals);
    return next();
  });
  provider.use(securityHeaders());
  provider.use(handleErrors(deps.logger));
  provider.use(awaitRequestWrites());
  if (secureCookies) provider.use(requireHttpsForBrowsers(deps.logger));
  provider.use(serveAssets(viewsDir));
  provider.use(routesUnder(['/healthz', '/readyz'], createHealthRouter(deps.probes)));
  provider.use(limitRegistration(provider, {
    create: createAttemptLimit(REGISTRATION_LIMITS.create, limitStore),
    manage: createAttemptLimit(REGISTRATION_LIMITS.manage, limitStore),
  }, deps.logger));
  provider.use(hashedSecretsInRegistration(provider, clientSecrets));
  const audit = createAuditLog(deps.queries, deps.logger);
  const services: InteractionDeps = {
    accounts: accountCache,
    provider,
    logger: deps.logger,
    config: deps.config,
    issuer: deps.config.issuer,
    secureCookies,
    queries: deps.queries,
    limits: {
      password: {
        account: createAttemptLimit(PASSWORD_LIMITS.account, limitStore),
        ip: createPasswordIpLimit(limitStore, { onSurge: (surge) => reportPasswordSurge(audit, deps.logger, surge) }),
      },
      secondFactor: createAttemptLimit(CODE_LIMITS.secondFactor, limitStore),
      emailSendAccount: createAttemptLimit(EMAIL_SEND_LIMITS.accountPerMinute, limitStore),
      emailSendAccountHourly: createAttemptLimit(EMAIL_SEND_LIMITS.accountPerHour, limitStore),
      emailSendIp: createAttemptLimit(EMAIL_SEND_LIMITS.ip, limitStore),
    },
    loginState: createLoginStateStore(deps.shortLived, createCipher(deps.secretKey, 'login-state'), deps.config.lifetimes.interaction),
    store: deps.shortLived,
    mailer: deps.mailer,
    sendTimer: createSendTimer(),
    codes: createOneTimeCodes(deps.secretKey),
    audit,
    clock: deps.clock ?? systemClock,
  };
  provider.use(routesUnder(['/interaction'], createInteractionRouter(services)));
  // Using the settings or admin pages keeps the session alive, as an authorization request does.
  provider.use(extendSessionOnUse(provider, sessionLifetimes(deps.config.lifetimes), ['/account', '/admin']));
  provider.use(routesUnder(['/account'], createAccountRouter(services)));
  provider.use(routesUnder(['/admin'], createAdminRouter(services, ADMIN_SECTIONS)));
  if (outboxPageEnabled(deps.config)) provider.use(routesUnder(['/dev/outbox'], createOutboxRouter({ dataDir: deps.config.dataDir })));
  return provider;
}
