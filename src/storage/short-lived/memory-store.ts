// The short-lived store in process memory, for development without REDIS_URL: the Redis store's semantics, one process.
import {
  joinConsumed, splitConsumed, toJson, toTtlSeconds,
  type AccountRevocation, type ConsumeResult, type EntryWithRelated, type ModelPayload, type RevokeAccountOptions, type ShortLivedStore,
  type UpsertModelOptions,
} from './short-lived-store.js';

// Values are kept as JSON text, like in Redis: every read parses a fresh copy, so callers cannot mutate stored
// state, and a value that survives here (a Date, a Map, undefined) is turned into what Redis would return.
type Value =
  | {
    kind: 'model'; id: string; payload: string; consumed?: number;
    grantKey?: string; uidKey?: string; userCodeKey?: string; clientKey?: string; accountKey?: string;
  }
  | { kind: 'set'; members: Set<string> }
  | { kind: 'string'; value: string };

interface Slot { value: Value; expiresAt: number | undefined }

const SWEEP_INTERVAL_MS = 30_000;

/** Creates the in-process short-lived store; `now` (epoch milliseconds) is injectable for tests. */
export function createMemoryStore(options: { now?: () => number } = {}): ShortLivedStore {
  const now = options.now ?? Date.now;
  const slots = new Map<string, Slot>();
  let closed = false;

  const keys = {
    model: (model: string, id: string) => `oidc:${model}:${id}`,
    grant: (grantId: string) => `oidc-grant:${grantId}`,
    client: (clientId: string) => `oidc-client:${clientId}`,
    account: (accountId: string) => `oidc-account:${accountId}`,
    ended: (model: string, id: string) => `oidc-ended:${model}:${id}`,
    uid: (model: string, uid: string) => `oidc-uid:${model}:${uid}`,
    userCode: (model: string, userCode: string) => `oidc-user-code:${model}:${userCode}`,
    generic: (key: string) => `kv:${key}`,
  };

  function isExpired(slot: Slot): boolean {
    return slot.expiresAt !== undefined && slot.expiresAt <= now();
  }

  function sweep(): void {
    for (const [key, slot] of slots) {
      if (isExpired(slot)) slots.delete(key);
    }
  }

  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  function read(key: string): Slot | undefined {
    if (closed) throw new Error('the in-process short-lived store is closed');
    const slot = slots.get(key);
    if (slot && isExpired(slot)) {
      slots.delete(key);
      return undefined;
    }
    return slot;
  }

  function write(key: string, value: Value, ttlSeconds: number | undefined): void {
    slots.set(key, { value, expiresAt: ttlSeconds === undefined ? undefined : now() + ttlSeconds * 1000 });
  }

  function readModel(key: string): Extract<Value, { kind: 'model' }> | undefined {
    const value = read(key)?.value;
    return value?.kind === 'model' ? value : undefined;
  }

  function readString(key: string): string | undefined {
    const value = read(key)?.value;
    return value?.kind === 'string' ? value.value : undefined;
  }

  function clearIndexes(key: string): void {
    const old = readModel(key);
    if (!old) return;
    for (const setKey of [old.grantKey, old.clientKey, old.accountKey]) {
      const set = setKey === undefined ? undefined : read(setKey)?.value;
      if (setKey && set?.kind === 'set') {
        set.members.delete(key);
        if (set.members.size === 0) slots.delete(setKey);
      }
    }
    for (const indexKey of [old.uidKey, old.userCodeKey]) {
      if (indexKey && readString(indexKey) === old.id) slots.delete(indexKey);
    }
  }

  function addToSet(setKey: string, key: string, ttl: number | undefined): void {
    const slot = read(setKey);
    const members = slot?.value.kind === 'set' ? slot.value.members : new Set<string>();
    members.add(key);
    // A grant, client or account index must outlive its longest-lived member, or a revocation would miss that member.
    const expiresAt = ttl === undefined || (slot && slot.expiresAt === undefined)
      ? undefined
      : Math.max(slot?.expiresAt ?? 0, now() + ttl * 1000);
    slots.set(setKey, { value: { kind: 'set', members }, expiresAt });
  }

  function revokeGrant(grantId: string): number {
    const grantKey = keys.grant(grantId);
    const grant = read(grantKey)?.value;
    let removed = 0;
    if (grant?.kind === 'set') {
      for (const key of [...grant.members]) {
        if (readModel(key)?.grantKey !== grantKey) continue;
        clearIndexes(key);
        slots.delete(key);
        removed += 1;
      }
    }
    slots.delete(grantKey);
    return removed;
  }

  function findModel(model: string, id: string): ModelPayload | undefined {
    const entry = readModel(keys.model(model, id));
    return entry && joinConsumed(entry.payload, entry.consumed);
  }

  function findByIndex(model: string, indexKey: string): ModelPayload | undefined {
    const id = readString(indexKey);
    return id === undefined ? undefined : findModel(model, id);
  }

  function parse<T>(json: string | undefined): T | undefined {
    return json === undefined ? undefined : JSON.parse(json) as T;
  }

  return {
    async upsertModel(model: string, id: string, payload: ModelPayload, opts: UpsertModelOptions = {}): Promise<void> {
      const { json, consumed } = splitConsumed(payload);
      const ttl = opts.expiresIn === undefined ? undefined : toTtlSeconds(opts.expiresIn);
      const key = keys.model(model, id);
      if (opts.accountId && read(keys.ended(model, id))) return;
      clearIndexes(key);
      const entry: Value = { kind: 'model', id, payload: json };
      if (consumed !== undefined) entry.consumed = consumed;
      if (opts.grantId) {
        entry.grantKey = keys.grant(opts.grantId);
        addToSet(entry.grantKey, key, ttl);
      }
      if (opts.clientId) {
        entry.clientKey = keys.client(opts.clientId);
        addToSet(entry.clientKey, key, ttl);
      }
      if (opts.accountId) {
        entry.accountKey = keys.account(opts.accountId);
        addToSet(entry.accountKey, key, ttl);
      }
      if (opts.uid) {
        entry.uidKey = keys.uid(model, opts.uid);
        write(entry.uidKey, { kind: 'string', value: id }, ttl);
      }
      if (opts.userCode) {
        entry.userCodeKey = keys.userCode(model, opts.userCode);
        write(entry.userCodeKey, { kind: 'string', value: id }, ttl);
      }
      write(key, entry, ttl);
    },

    findModel: async (model, id) => findModel(model, id),
    async findModelWithRelated(model: string, id: string): Promise<EntryWithRelated | undefined> {
      const payload = findModel(model, id);
      if (!payload) return undefined;
      const { grantId, sessionUid, expiresWithSession } = payload;
      return {
        payload,
        ...(typeof grantId === 'string' ? { grant: { id: grantId, payload: findModel('Grant', grantId) } } : {}),
        ...(expiresWithSession === true && typeof sessionUid === 'string'
          ? { session: { uid: sessionUid, payload: findByIndex('Session', keys.uid('Session', sessionUid)) } }
          : {}),
      };
    },
    findModelByUid: async (model, uid) => findByIndex(model, keys.uid(model, uid)),
    findModelByUserCode: async (model, userCode) => findByIndex(model, keys.userCode(model, userCode)),

    async consumeModel(model: string, id: string): Promise<ConsumeResult> {
      // Check and set run without an await in between, so in one process concurrent consumes are serialised.
      const entry = readModel(keys.model(model, id));
      if (!entry) return 'not-found';
      if (entry.consumed !== undefined) return 'already-consumed';
      entry.consumed = Math.floor(now() / 1000);
      return 'consumed';
    },

    async destroyModel(model: string, id: string): Promise<void> {
      const key = keys.model(model, id);
      // A logged-out session of an account is marked ended for the rest of its lifetime, as in the Redis store.
      if (model === 'Session' && readModel(key)?.accountKey) {
        slots.set(keys.ended(model, id), { value: { kind: 'string', value: '1' }, expiresAt: read(key)?.expiresAt ?? now() + 86_400_000 });
      }
      clearIndexes(key);
      slots.delete(key);
    },

    revokeByGrantId: async (grantId) => revokeGrant(grantId),

    async revokeByClientId(clientId: string): Promise<number> {
      // No await until the end, so no grant can be added for the client in between (one process).
      const clientKey = keys.client(clientId);
      const index = read(clientKey)?.value;
      let revoked = 0;
      if (index?.kind === 'set') {
        for (const key of [...index.members]) {
          const grant = readModel(key);
          if (grant?.clientKey !== clientKey) continue;
          revokeGrant(grant.id);
          clearIndexes(key);
          slots.delete(key);
          revoked += 1;
        }
      }
      slots.delete(clientKey);
      return revoked;
    },

    async revokeByAccountId(accountId: string, options: RevokeAccountOptions = {}): Promise<AccountRevocation> {
      // No await until the end, as for a client: nothing is saved for the account in between (one process).
      const accountKey = keys.account(accountId);
      const index = read(accountKey)?.value;
      const keepUidKey = options.exceptSessionUid ? keys.uid('Session', options.exceptSessionUid) : undefined;
      const keepGrants = new Set(options.keepGrantIds ?? []);
      const result = { sessions: 0, grants: 0 };
      if (index?.kind !== 'set') return result;
      // The mark lives as long as the entry had to, so that a request that read it before cannot save it again after.
      const end = (key: string, model: string, entryId: string) => {
        const expiresAt = read(key)?.expiresAt ?? now() + 86_400_000;
        slots.set(keys.ended(model, entryId), { value: { kind: 'string', value: '1' }, expiresAt });
        clearIndexes(key);
        slots.delete(key);
      };
      for (const key of [...index.members]) {
        const entry = readModel(key);
        if (entry?.accountKey !== accountKey) {
          index.members.delete(key);
        } else if (key.startsWith(keys.model('Session', ''))) {
          if (keepUidKey !== undefined && entry.uidKey === keepUidKey) continue;
          end(key, 'Session', entry.id);
          result.sessions += 1;
        } else if (key.startsWith(keys.model('Grant', ''))) {
          if (keepGrants.has(entry.id)) continue;
          revokeGrant(entry.id);
          end(key, 'Grant', entry.id);
          result.grants += 1;
        }
      }
      if (index.members.size === 0) slots.delete(accountKey);
      return result;
    },

    async setJson(key: string, value: unknown, ttlSeconds: number): Promise<void> {
      write(keys.generic(key), { kind: 'string', value: toJson(value) }, toTtlSeconds(ttlSeconds));
    },

    async getJson<T = unknown>(key: string): Promise<T | undefined> {
      return parse<T>(readString(keys.generic(key)));
    },

    async takeJson<T = unknown>(key: string): Promise<T | undefined> {
      const json = readString(keys.generic(key));
      slots.delete(keys.generic(key));
      return parse<T>(json);
    },

    async increment(key: string, ttlSeconds: number): Promise<number> {
      const ttl = toTtlSeconds(ttlSeconds);
      const slot = read(keys.generic(key));
      if (!slot) {
        write(keys.generic(key), { kind: 'string', value: '1' }, ttl);
        return 1;
      }
      const current = slot.value.kind === 'string' ? slot.value.value : '';
      if (!/^-?\d+$/.test(current)) throw new TypeError('value is not an integer');
      const count = Number(current) + 1;
      slot.value = { kind: 'string', value: String(count) };
      return count;
    },

    async remove(key: string): Promise<boolean> {
      const existed = read(keys.generic(key)) !== undefined;
      slots.delete(keys.generic(key));
      return existed;
    },

    async ttl(key: string): Promise<number | undefined> {
      const expiresAt = read(keys.generic(key))?.expiresAt;
      return expiresAt === undefined ? undefined : Math.ceil((expiresAt - now()) / 1000);
    },

    async ping(): Promise<void> {
      if (closed) throw new Error('the in-process short-lived store is closed');
    },

    async close(): Promise<void> {
      clearInterval(sweeper);
      slots.clear();
      closed = true;
    },
  };
}
