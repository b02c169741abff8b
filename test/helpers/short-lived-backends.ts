// The two short-lived stores as storage tests open them: on the real Redis, and in process with a clock of its own.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ShortLivedStore } from '../../src/storage/short-lived/short-lived-store.js';
import { createRedisStore } from '../../src/storage/short-lived/redis-store.js';
import { createMemoryStore } from '../../src/storage/short-lived/memory-store.js';
import { createTestRedis, type TestRedis } from './redis.js';

export interface Backend {
  /** A store for this test. */
  store: ShortLivedStore;
  /** Another handle on the same data (a second Redis connection; the same object in memory). */
  sibling(): Promise<ShortLivedStore>;
  /** Lets time pass: real waiting for Redis, a clock step for the memory store. */
  advance(seconds: number): Promise<void>;
}

export interface BackendFactory {
  name: string;
  setUp(): Promise<void>;
  open(): Promise<Backend>;
  tearDown(): Promise<void>;
}

/** The Redis store on a fresh key prefix of the test Redis, removed by tearDown. */
export function redisBackend(): BackendFactory {
  let test: TestRedis | undefined;
  return {
    name: 'Redis store',
    async setUp() {
      test = await createTestRedis();
    },
    async open() {
      const t = test;
      if (!t) throw new Error('setUp() did not run');
      const open = async () => createRedisStore(await t.connect(), { prefix: t.prefix });
      return { store: await open(), sibling: open, advance: (seconds) => sleep(seconds * 1000) };
    },
    async tearDown() {
      await test?.cleanup();
    },
  };
}

/** The in-process store, a new one for each open(), on a clock that advance() moves. */
export function memoryBackend(): BackendFactory {
  const stores: ShortLivedStore[] = [];
  return {
    name: 'memory store',
    async setUp() {},
    async open() {
      let clock = Date.UTC(2030, 0, 1);
      const store = createMemoryStore({ now: () => clock });
      stores.push(store);
      return { store, sibling: async () => store, advance: async (seconds) => { clock += seconds * 1000; } };
    },
    async tearDown() {
      await Promise.all(stores.map((store) => store.close()));
    },
  };
}
