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
  /** A mark to take before reading a value some other way (e.g. by another key), for offer(). */
  mark(): number;
  /** Keeps a value read some other way since `mark`, unless a change was announced in between. */
  offer(key: string, value: T, mark: number): void;
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

  // A change made while a value was being read may not be in it: it is served once, but not kept.
  function keep(key: string, value: T | undefined, readSince: number): void {
    if (readSince !== generation) return;
    entries.delete(key);
    entries.set(key, { value, expiresAt: now() + (value === undefined ? negativeTtlMs : ttlMs) });
    for (const oldest of entries.keys()) {
      if (entries.size <= maxEntries) break;
      entries.delete(oldest);
    }
  }

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
      keep(key, value, started);
      return value;
    },
    mark: () => generation,
    offer(key, value, mark) {
      keep(key, freeze(value), mark);
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
