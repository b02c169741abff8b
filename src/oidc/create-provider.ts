// Builds the oidc-provider instance with Twofold's configuration, pages and event logging.
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Queries } from '../storage/queries.js';
import type { ShortLivedStore } from '../storage/short-lived/short-lived-store.js';
import { createOidcAdapter } from '../storage/oidc-adapter.js';
import { isStoreUnavailable } from '../storage/store-unavailable.js';
import { markStoreUnavailable } from '../http/handle-errors.js';
import { buildConfiguration } from './configuration.js';
import { createClientFinder } from './find-client.js';
import { createFindAccount } from './find-account.js';
import type { ProviderKeys } from './signing-keys.js';

export interface ProviderDeps {
  config: Config;
  logger: Logger;
  queries: Queries;
  shortLived: ShortLivedStore;
  keys: ProviderKeys;
}

/** Creates the Provider (a Koa application) for Twofold. */
export function createProvider(deps: ProviderDeps): Provider {
  const render = async (ctx: KoaContextWithOIDC, view: string, locals: Record<string, unknown>) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    await (ctx as unknown as { render(view: string, locals: object): Promise<void> }).render(view, locals);
  };

  const configuration = buildConfiguration({
    config: deps.config,
    keys: deps.keys,
    adapter: createOidcAdapter(deps.shortLived, { clientFinder: createClientFinder(deps.queries) }),
    findAccount: createFindAccount(deps.queries),
    policy: { hasTotp: async (accountId) => (await deps.queries.totp.find(accountId)) !== undefined },
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
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    deps.logger.debug({ event: 'grant.success', client: ctx.oidc.client?.clientId }, 'tokens issued');
  });
  return provider;
}
