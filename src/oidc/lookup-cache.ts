// A small in-process LRU cache with TTLs in front of a Postgres look-up, dropped entry by entry on changes.

export interface LookupCacheOptions {
  /** How many entries to keep (least recently used go first). */
  maxEntries?: number;
  /** How long a found value is served from memory. */
  ttlMs?: number;
  /** How long "not found" is remembered: short, so something new is never refused for long. */
  negativeTtlMs?: number;
  now?: () => number;
}

export interface LookupCache<T> {
  /** The value for `key`, from memory or from the loader. */
  find(key: string): Promise<T | undefined>;
  /** Forgets a key after a change; loads under way when it is called are not kept either. */
  invalidate(key: string): void;
  /** Forgets everything (e.g. when changes made on other nodes may have been missed). */
  clear(): void;
}

interface Entry<T> {
  value: T | undefined;
  expiresAt: number;
}

/** Creates an LRU cache (by default 1000 entries, 30 s, misses 5 s) over `load`; values are frozen and shared. */
export function createLookupCache<T>(load: (key: string) => Promise<T | undefined>, options: LookupCacheOptions = {}): LookupCache<T> {
  const { maxEntries = 1000, ttlMs = 30_000, negativeTtlMs = 5_000, now = Date.now } = options;
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, Entry<T>>();
  let generation = 0;

  return {
    async find(key) {
      const hit = entries.get(key);
      entries.delete(key);
      if (hit && hit.expiresAt > now()) {
        entries.set(key, hit);
        return hit.value;
      }
      const started = generation;
      const value = freeze(await load(key));
      // A change made while this load ran may not be in what it read: serve it once, but do not keep it.
      if (started === generation) {
        entries.set(key, { value, expiresAt: now() + (value === undefined ? negativeTtlMs : ttlMs) });
        for (const oldest of entries.keys()) {
          if (entries.size <= maxEntries) break;
          entries.delete(oldest);
        }
      }
      return value;
    },
    invalidate(key) {
      entries.delete(key);
      generation += 1;
    },
    clear() {
      entries.clear();
      generation += 1;
    },
  };
}

// The same value is handed to every caller: frozen, so that nothing can change the cached copy (a write throws
// in strict mode instead of silently altering what the next request sees).
function freeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}
