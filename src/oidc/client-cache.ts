// A small cache in front of the Postgres client lookup, which oidc-provider makes on nearly every request.
import type Provider from 'oidc-provider';
import type { Client, ClientMetadata } from 'oidc-provider';
import type { ClientChanges } from '../storage/short-lived/client-changes.js';
import { createLookupCache, type LookupCache, type LookupCacheOptions } from './lookup-cache.js';

export type ClientCacheOptions = LookupCacheOptions;

export type ClientCache = LookupCache<ClientMetadata>;

/**
 * Creates the client cache (by default 1000 clients, 30 s, unknown ids 5 s) over `load`. oidc-provider builds
 * its Client from the metadata it gets without changing it, so every request shares the frozen cached copy.
 */
export function createClientCache(load: (clientId: string) => Promise<ClientMetadata | undefined>, options: ClientCacheOptions = {}): ClientCache {
  return createLookupCache(load, options);
}

// Keyed by provider, so every app (and every test app) has its own cache; the admin console reaches it through
// the provider it already has, because createApp's dependencies carry no cache.
const caches = new WeakMap<Provider, ClientCache>();

/** Records the cache that a provider's Client adapter reads through (done by createProvider). */
export function attachClientCache(provider: Provider, cache: ClientCache): void {
  caches.set(provider, cache);
}

/**
 * Keeps the Client that oidc-provider builds from a client's cached metadata with that metadata, and hands it out
 * again while the cache holds the same (frozen) metadata. oidc-provider's own Client.find hashes the JSON of the
 * metadata at every call to find the Client it built before: about 1 % of a client_credentials grant's CPU.
 * A change gives the cache new metadata, so the next find builds the changed client as before. `staticIds` are the
 * clients of the configuration, which oidc-provider finds first and which are never in the cache.
 */
export function reuseBuiltClients(provider: Provider, cache: ClientCache, staticIds: Iterable<string>): void {
  const fixed = new Set(staticIds);
  const find = provider.Client.find.bind(provider.Client);
  const built = new WeakMap<ClientMetadata, Client>();
  provider.Client.find = async (id: string): Promise<Client | undefined> => {
    if (typeof id !== 'string' || !id || fixed.has(id)) return find(id);
    const metadata = await cache.find(id);
    if (!metadata) return find(id);
    const known = built.get(metadata);
    if (known) return known;
    // Built from what the cache holds now: this metadata or, after a change meanwhile, newer.
    const client = await find(id);
    if (client) built.set(metadata, client);
    return client;
  };
}

/** The client cache of a provider built by createProvider. */
export function clientCacheOf(provider: Provider): ClientCache {
  const cache = caches.get(provider);
  if (!cache) throw new Error('this provider has no client cache (it was not built by createProvider)');
  return cache;
}

/**
 * Wraps a node's cache so that a change made here is announced to every node, and changes announced by any node
 * (this one included) are forgotten here; without a channel (one process) the cache is returned as it is.
 */
export function shareClientCache(cache: ClientCache, changes: ClientChanges | undefined): ClientCache {
  if (!changes) return cache;
  changes.listen({ changed: (clientId) => cache.invalidate(clientId), reset: () => cache.clear() });
  return {
    ...cache,
    invalidate(clientId) {
      // Forget it here at once too: the next request on this node must not wait for the message to come back.
      cache.invalidate(clientId);
      changes.publish(clientId);
    },
  };
}
