// A small cache in front of the Postgres client lookup, which oidc-provider makes on nearly every request.
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { ClientChanges } from '../storage/short-lived/client-changes.js';

export interface ClientCacheOptions {
  /** How many clients to keep (least recently used go first). */
  maxEntries?: number;
  /** How long a found client is served from memory. */
  ttlMs?: number;
  /** How long "no such client" is remembered: short, so a new client is never refused for long. */
  negativeTtlMs?: number;
  now?: () => number;
}

export interface ClientCache {
  /** The client's metadata, from memory or from the loader. */
  find(clientId: string): Promise<ClientMetadata | undefined>;
  /** Forgets a client after a change; loads under way when it is called are not kept either. */
  invalidate(clientId: string): void;
  /** Forgets every client (e.g. when changes made on other nodes may have been missed). */
  clear(): void;
}

interface Entry {
  value: ClientMetadata | undefined;
  expiresAt: number;
}

/** Creates an LRU cache (by default 1000 clients, 30 s, unknown ids 5 s) over `load`. */
export function createClientCache(load: (clientId: string) => Promise<ClientMetadata | undefined>, options: ClientCacheOptions = {}): ClientCache {
  const { maxEntries = 1000, ttlMs = 30_000, negativeTtlMs = 5_000, now = Date.now } = options;
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let generation = 0;

  return {
    async find(clientId) {
      const hit = entries.get(clientId);
      entries.delete(clientId);
      if (hit && hit.expiresAt > now()) {
        entries.set(clientId, hit);
        return copy(hit.value);
      }
      const started = generation;
      const value = await load(clientId);
      // A change made while this load ran may not be in what it read: serve it once, but do not keep it.
      if (started === generation) {
        entries.set(clientId, { value, expiresAt: now() + (value ? ttlMs : negativeTtlMs) });
        for (const oldest of entries.keys()) {
          if (entries.size <= maxEntries) break;
          entries.delete(oldest);
        }
      }
      return copy(value);
    },
    invalidate(clientId) {
      entries.delete(clientId);
      generation += 1;
    },
    clear() {
      entries.clear();
      generation += 1;
    },
  };
}

// oidc-provider builds its Client from what it gets; a copy keeps the cached metadata as it was loaded.
function copy(value: ClientMetadata | undefined): ClientMetadata | undefined {
  return value === undefined ? undefined : structuredClone(value);
}

// Keyed by provider, so every app (and every test app) has its own cache; the admin console reaches it through
// the provider it already has, because createApp's dependencies carry no cache.
const caches = new WeakMap<Provider, ClientCache>();

/** Records the cache that a provider's Client adapter reads through (done by createProvider). */
export function attachClientCache(provider: Provider, cache: ClientCache): void {
  caches.set(provider, cache);
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
    find: cache.find,
    invalidate(clientId) {
      // Forget it here at once too: the next request on this node must not wait for the message to come back.
      cache.invalidate(clientId);
      changes.publish(clientId);
    },
    clear: cache.clear,
  };
}
