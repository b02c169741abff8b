// The contract for everything short-lived (oidc-provider models, single-use codes, counters): Redis or in-process.

/** A stored oidc-provider model payload: a JSON object. */
export type ModelPayload = Readonly<Record<string, unknown>>;

/** Secondary indexes recorded alongside a model entry, and removed with it. */
export interface ModelIndexes {
  /** The grant the entry belongs to: revokeByGrantId(grantId) deletes it. */
  grantId?: string | undefined;
  /** Makes the entry findable with findModelByUid(model, uid) (sessions). */
  uid?: string | undefined;
  /** Makes the entry findable with findModelByUserCode(model, userCode) (device flow). */
  userCode?: string | undefined;
  /** The client a grant entry belongs to: revokeByClientId(clientId) revokes it (the entry id is the grant id). */
  clientId?: string | undefined;
  /**
   * The account a Session or Grant entry belongs to: revokeByAccountId(accountId) deletes it (a Grant entry is revoked
   * as a grant, with every entry recorded for its id). Only Session and Grant entries are given one. An entry that
   * revokeByAccountId ended is not saved again under its id with an accountId: the upsert does nothing.
   */
  accountId?: string | undefined;
}

/** Options of upsertModel: the indexes plus the lifetime. */
export interface UpsertModelOptions extends ModelIndexes {
  /** Seconds until the entry (and its indexes) expire; undefined means it never expires. */
  expiresIn?: number | undefined;
}

/** What revokeByAccountId spares: the session making the change, and the grants it keeps using. */
export interface RevokeAccountOptions {
  /** The uid of a Session entry to keep (the one it was upserted with). */
  exceptSessionUid?: string | undefined;
  /** Ids of Grant entries to keep, with their tokens. */
  keepGrantIds?: readonly string[] | undefined;
}

/** What revokeByAccountId removed. */
export interface AccountRevocation {
  /** Session entries deleted. */
  sessions: number;
  /** Grant entries revoked, each with every entry recorded for it. */
  grants: number;
}

/**
 * An entry read with what oidc-provider reads right after it: the Grant its grantId names and, for an entry that
 * expires with its session, the Session with its sessionUid. `grant` and `session` are there when the entry names
 * one, with the payload found (undefined when it is gone).
 */
export interface EntryWithRelated {
  payload: ModelPayload;
  grant?: { id: string; payload: ModelPayload | undefined };
  session?: { uid: string; payload: ModelPayload | undefined };
}

/** What consumeModel did: only one caller ever gets 'consumed' for an entry. */
export type ConsumeResult = 'consumed' | 'already-consumed' | 'not-found';

/**
 * Short-lived state with the same semantics in Redis and in-process. Model entries live under
 * (model, id); the generic helpers take a free-form key. Both are namespaced by the store's prefix.
 */
export interface ShortLivedStore {
  /** Replaces the entry for (model, id), its `consumed` mark and its indexes. */
  upsertModel(model: string, id: string, payload: ModelPayload, options?: UpsertModelOptions): Promise<void>;
  /** Returns a copy of the entry (with `consumed` merged in when set), or undefined. */
  findModel(model: string, id: string): Promise<ModelPayload | undefined>;
  /** findModel, with the entry's Grant and (for one that expires with its session) its Session, read at once. */
  findModelWithRelated(model: string, id: string): Promise<EntryWithRelated | undefined>;
  /** Finds the entry of `model` that was upserted with this uid. */
  findModelByUid(model: string, uid: string): Promise<ModelPayload | undefined>;
  /** Finds the entry of `model` that was upserted with this user code. */
  findModelByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined>;
  /** Atomically sets `consumed` (epoch seconds) if the entry exists and is not consumed yet. */
  consumeModel(model: string, id: string): Promise<ConsumeResult>;
  /** Deletes the entry and its indexes; a missing entry is not an error. */
  destroyModel(model: string, id: string): Promise<void>;
  /** Atomically deletes every entry recorded for the grant and the grant index; returns how many entries. */
  revokeByGrantId(grantId: string): Promise<number>;
  /**
   * Atomically revokes every grant entry upserted with this clientId: the entry itself and, as revokeByGrantId,
   * every entry recorded for its id; then drops the client index. Returns how many grants.
   */
  revokeByClientId(clientId: string): Promise<number>;
  /**
   * Atomically deletes every Session entry upserted with this accountId and revokes every Grant entry upserted with it
   * (the entry and, as revokeByGrantId, every entry recorded for its id), except those `options` names. The index
   * keeps what was spared. Each ended entry stays ended for the rest of its lifetime: a request that read it before
   * cannot bring it back by saving it. Returns how many sessions and grants.
   */
  revokeByAccountId(accountId: string, options?: RevokeAccountOptions): Promise<AccountRevocation>;

  /** Stores a JSON-serialisable value for ttlSeconds, replacing any previous value. */
  setJson(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** Reads a value stored with setJson; the type parameter is the caller's claim, not a check. */
  getJson<T = unknown>(key: string): Promise<T | undefined>;
  /** Atomically reads and deletes a value, so that only one caller ever gets it (single use). */
  takeJson<T = unknown>(key: string): Promise<T | undefined>;
  /** Atomically adds one and returns the new count; the TTL starts when the key is created and is not extended. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /** Deletes a key set with setJson or increment; returns whether it existed. */
  remove(key: string): Promise<boolean>;
  /** Seconds left before the key expires (rounded up), or undefined when it is missing or never expires. */
  ttl(key: string): Promise<number | undefined>;

  /** Resolves when the backend answers; throws when it is unreachable. */
  ping(): Promise<void>;
  /** Releases the backend (the Redis connection, the sweep timer). */
  close(): Promise<void>;
}

/** Checks a lifetime in seconds: a positive number, rounded up to whole seconds as Redis needs. */
export function toTtlSeconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Math.ceil(ttlSeconds);
}

/** Serialises a value for the generic helpers, refusing what JSON cannot represent. */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new TypeError('value is not JSON-serialisable');
  }
  return json;
}

/** Splits a payload into the JSON to store and its `consumed` mark (kept apart so consume can be atomic). */
export function splitConsumed(payload: ModelPayload): { json: string; consumed: number | undefined } {
  const { consumed, ...rest } = payload;
  return { json: toJson(rest), consumed: typeof consumed === 'number' ? consumed : undefined };
}

/** Rebuilds a payload from its stored JSON and `consumed` mark. */
export function joinConsumed(json: string, consumed: number | undefined): ModelPayload {
  const payload = JSON.parse(json) as Record<string, unknown>;
  return consumed === undefined ? payload : { ...payload, consumed };
}
