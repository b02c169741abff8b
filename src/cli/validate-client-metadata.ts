// oidc-provider's own client metadata validation, for the CLI, which registers clients without running the server.
import Provider, { type ClientMetadata } from 'oidc-provider';
import type { Config } from '../config.js';
import { buildConfiguration } from '../oidc/configuration.js';
import { createClientFinder } from '../oidc/find-client.js';
import { loadProviderKeys } from '../oidc/signing-keys.js';
import { createOidcAdapter } from '../storage/oidc-adapter.js';
import type { Queries } from '../storage/queries.js';
import { createMemoryStore } from '../storage/short-lived/memory-store.js';

const notServing = async (): Promise<never> => {
  throw new Error('the CLI provider only validates client metadata; it serves no requests');
};

/**
 * Builds a Provider with the server's exact configuration and returns its Client.validate, so a client the CLI
 * accepts is one the server accepts too. The provider is never mounted: the page hooks are never called.
 */
export async function createClientMetadataValidator(deps: { config: Config; queries: Queries }): Promise<(metadata: ClientMetadata) => Promise<void>> {
  const provider = new Provider(
    deps.config.issuer,
    buildConfiguration({
      config: deps.config,
      keys: await loadProviderKeys(deps.queries, { idTokenTtl: deps.config.lifetimes.idToken }),
      adapter: createOidcAdapter(createMemoryStore(), { clientFinder: createClientFinder(deps.queries) }),
      findAccount: async () => undefined,
      renderError: notServing,
      logoutSource: notServing,
      postLogoutSuccessSource: notServing,
      policy: { hasTotp: async () => false },
    }),
  );
  return (metadata) => provider.Client.validate(metadata);
}
