// Builds the oidc-provider instance with Twofold's configuration, pages and event logging.
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import type { ClientChanges } from '../storage/short-lived/client-changes.js';
import { createOidcAdapter } from '../storage/oidc-adapter.js';
import { writeWithinRequest } from './request-writes.js';
import { readAheadWithinRequest } from './request-reads.js';
import { isStoreUnavailable } from '../storage/store-unavailable.js';
import { markStoreUnavailable } from '../http/handle-errors.js';
import { buildConfiguration } from './configuration.js';
import { createAuditLog, requestOrigin, type AuditEventName, type AuditLog } from '../security/audit.js';
import { createClientFinder } from './find-client.js';
import { attachClientCache, createClientCache, reuseBuiltClients, shareClientCache } from './client-cache.js';
import { createClientWriter } from './write-client.js';
import { handleRegistrationEvents } from './registration.js';
import { countTokenRequest } from '../metrics.js';
import { createFindAccount } from './find-account.js';
import type { AccountCache } from './account-cache.js';
import type { ProviderKeys } from './signing-keys.js';
import type { ClientSecretHasher } from '../security/client-secrets.js';
import { checkHashedClientSecrets } from './hashed-client-secrets.js';

export interface ProviderDeps {
  config: Config;
  logger: Logger;
  queries: Queries;
  shortLived: ShortLivedStore;
  keys: ProviderKeys;
  /** Client changes shared with the other nodes (through Redis); undefined for a single process. */
  clientChanges: ClientChanges | undefined;
  /** Every token, refresh and userinfo request reads the account: through a cache that changes clear. */
  accountCache: AccountCache;
  /** Client secrets are stored hashed: this checks a presented one. */
  clientSecrets: ClientSecretHasher;
}

/** Creates the Provider (a Koa application) for Twofold. */
export function createProvider(deps: ProviderDeps): Provider {
  const render = async (ctx: KoaContextWithOIDC, view: string, locals: Record<string, unknown>) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    await (ctx as unknown as { render(view: string, locals: object): Promise<void> }).render(view, locals);
  };

  // Clients live in Postgres; oidc-provider looks one up on nearly every request, so through a short cache,
  // which a change on any node clears on every node.
  const clientCache = shareClientCache(createClientCache(createClientFinder(deps.queries)), deps.clientChanges);
  const configuration = buildConfiguration({
    config: deps.config,
    keys: deps.keys,
    adapter: createOidcAdapter(deps.shortLived, {
      clientFinder: clientCache.find,
      clientWriter: createClientWriter({ queries: deps.queries, store: deps.shortLived, cache: clientCache }),
      write: writeWithinRequest,
      readAhead: readAheadWithinRequest,
    }),
    findAccount: createFindAccount(deps.accountCache),
    policy: { hasTotp: async (accountId) => (await deps.accountCache.find(accountId))?.hasTotp ?? false },
    async renderError(ctx, out, error) {
      if (isStoreUnavailable(error)) {
        markStoreUnavailable(ctx);
        ctx.status = 503;
        return render(ctx, 'error', { title: 'Unavailable', code: 'SERVICE_UNAVAILABLE' });
      }
      if (out.error === 'server_error') return render(ctx, 'error', { title: 'Error', code: 'INTERNAL' });
      return render(ctx, 'error', { title: 'Error', code: 'OIDC', oidcError: out.error, oidcDescription: out.error_description });
    },
    async logoutSource(ctx, form) {
      const client = ctx.oidc.client;
      await render(ctx, 'logout/confirm', { title: 'Log out', form, clientName: client?.clientName ?? client?.clientId });
    },
    async postLogoutSuccessSource(ctx) {
      const client = ctx.oidc.client;
      await render(ctx, 'logout/done', { title: 'Logged out', clientName: client?.clientName ?? client?.clientId });
    },
  });

  const provider = new Provider(deps.config.issuer, configuration);
  // Rotated keys reach this provider without a restart: reloaded from Postgres, switched at their sign-from time.
  deps.keys.signing.attach(provider);
  attachClientCache(provider, clientCache);
  reuseBuiltClients(provider, clientCache, (configuration.clients ?? []).map((client) => client.client_id));
  checkHashedClientSecrets(provider, deps.clientSecrets);
  handleRegistrationEvents(provider, { audit: createAuditLog(deps.queries, deps.logger), logger: deps.logger, queries: deps.queries });
  provider.proxy = deps.config.trustProxy;

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    if (isStoreUnavailable(err)) {
      markStoreUnavailable(ctx);
      deps.logger.warn({ err: { message: err.message }, path: ctx.path }, 'storage unavailable');
    } else {
      deps.logger.error({ err, path: ctx.path }, 'oidc-provider server error');
    }
  });
  const logRefusal = (event: string) => (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string }) => {
    deps.logger.info({ event, error: err.error ?? err.message, description: err.error_description, client: ctx.oidc?.client?.clientId }, 'oidc request refused');
  };
  provider.on('authorization.error', logRefusal('authorization.error'));
  provider.on('grant.error', logRefusal('grant.error'));
  provider.on('introspection.error', logRefusal('introspection.error'));
  provider.on('revocation.error', logRefusal('revocation.error'));
  provider.on('end_session.error', logRefusal('end_session.error'));
  provider.on('userinfo.error', logRefusal('userinfo.error'));
  recordClientRefusals(provider, createAuditLog(deps.queries, deps.logger), deps.logger);
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    countTokenRequest(ctx.oidc.params?.['grant_type'], 'issued');
    deps.logger.debug({ event: 'grant.success', client: ctx.oidc.client?.clientId }, 'tokens issued');
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC) => countTokenRequest(ctx.oidc?.params?.['grant_type'], 'refused'));
  return provider;
}

type RefusedError = Error & { error?: string; error_description?: string; error_detail?: string };
// Client-chosen text (a claimed client_id, an error detail) is bounded before it is stored.
const clip = (value: unknown, max: number) => (typeof value === 'string' ? Array.from(value).slice(0, max).join('') : undefined);

/**
 * Puts failed authorisations of clients into the audit record (ASVS 16.3.2): a dynamic registration
 * refused (e.g. without a valid initial access token) and failed client authentication at the token, introspection
 * and revocation endpoints. Only the error code and the library's reason are kept, never the presented token,
 * secret or assertion (ASVS 16.2.5).
 */
function recordClientRefusals(provider: Provider, audit: AuditLog, logger: Logger): void {
  // Provider events are not awaited: a failed write cannot fail the response any more, so it is logged instead.
  const record = (event: AuditEventName, ctx: KoaContextWithOIDC, clientId: string | undefined, details: Record<string, unknown>) => {
    audit.record(event, requestOrigin(ctx, clientId), null, details).catch((err: unknown) => {
      logger.error({ err, audit: event }, 'audit event not recorded');
    });
  };
  provider.on('registration_create.error', (ctx: KoaContextWithOIDC, err: RefusedError) => {
    record('registration.refused', ctx, undefined, { error: err.error ?? 'invalid_request', reason: clip(err.error_detail ?? err.error_description, 200) });
  });
  const clientAuthFailed = (endpoint: string) => (ctx: KoaContextWithOIDC, err: RefusedError) => {
    if (err.error !== 'invalid_client') return;
    const known = ctx.oidc?.client?.clientId;
    const claimed = clip(ctx.oidc?.params?.['client_id'], 128);
    record('client.auth_failed', ctx, known ?? claimed, { endpoint, clientKnown: known !== undefined, reason: clip(err.error_detail, 200) });
  };
  provider.on('grant.error', clientAuthFailed('token'));
  provider.on('introspection.error', clientAuthFailed('introspection'));
  provider.on('revocation.error', clientAuthFailed('revocation'));
}
