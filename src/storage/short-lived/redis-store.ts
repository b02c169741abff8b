// The short-lived store on Redis: model entries are hashes, indexes are sets and strings, TTLs are native expirations;
// every change to an entry and its indexes is one Lua script (redis-scripts.ts).
import type { RedisClient } from './connect-redis.js';
import {
  joinConsumed, splitConsumed, toJson, toTtlSeconds,
  type AccountRevocation, type ConsumeResult, type EntryWithRelated, type ModelPayload, type RevokeAccountOptions, type ShortLivedStore,
  type UpsertModelOptions,
} from './short-lived-store.js';
import { runScript, SCRIPTS } from './redis-scripts.js';

function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Creates the short-lived store on a Redis connection, which it owns from then on (close() quits it). */
export function createRedisStore(redis: RedisClient, options: { prefix: string }): ShortLivedStore {
  const { prefix } = options;
  const keys = {
    model: (model: string, id: string) => `${prefix}oidc:${model}:${id}`,
    grant: (grantId: string) => `${prefix}oidc-grant:${grantId}`,
    client: (clientId: string) => `${prefix}oidc-client:${clientId}`,
    account: (accountId: string) => `${prefix}oidc-account:${accountId}`,
    ended: (model: string, id: string) => `${prefix}oidc-ended:${model}:${id}`,
    uid: (model: string, uid: string) => `${prefix}oidc-uid:${model}:${uid}`,
    userCode: (model: string, userCode: string) => `${prefix}oidc-user-code:${model}:${userCode}`,
    generic: (key: string) => `${prefix}kv:${key}`,
  };

  function toPayload([payload, consumed]: (string | null)[]): ModelPayload | undefined {
    if (payload == null) return undefined;
    return joinConsumed(payload, consumed == null ? undefined : Number(consumed));
  }

  async function findModel(model: string, id: string): Promise<ModelPayload | undefined> {
    return toPayload(await redis.hmget(keys.model(model, id), 'payload', 'consumed'));
  }

  async function findByIndex(model: string, indexKey: string): Promise<ModelPayload | undefined> {
    const found = await runScript(redis, SCRIPTS.findByIndex, [indexKey], [keys.model(model, '')]) as (string | null)[] | null;
    return found ? toPayload(found) : undefined;
  }

  function parse<T>(json: string | null): T | undefined {
    return json == null ? undefined : JSON.parse(json) as T;
  }

  return {
    async upsertModel(model: string, id: string, payload: ModelPayload, opts: UpsertModelOptions = {}): Promise<void> {
      const { json, consumed } = splitConsumed(payload);
      const ttl = opts.expiresIn === undefined ? 0 : toTtlSeconds(opts.expiresIn);
      const indexes: [field: string, key: string][] = [];
      if (opts.grantId) indexes.push(['index:grant', keys.grant(opts.grantId)]);
      if (opts.uid) indexes.push(['index:uid', keys.uid(model, opts.uid)]);
      if (opts.userCode) indexes.push(['index:user-code', keys.userCode(model, opts.userCode)]);
      if (opts.clientId) indexes.push(['index:client', keys.client(opts.clientId)]);
      if (opts.accountId) indexes.push(['index:account', keys.account(opts.accountId)], ['ended', keys.ended(model, id)]);
      await runScript(redis, SCRIPTS.upsert, [keys.model(model, id), ...indexes.map(([, key]) => key)], [id, json, ttl, consumed ?? '', ...indexes.map(([field]) => field)]);
    },

    findModel,

    async findModelWithRelated(model: string, id: string): Promise<EntryWithRelated | undefined> {
      const found = await runScript(redis, SCRIPTS.findWithRelated, [keys.model(model, id)], [keys.model('Grant', ''), keys.uid('Session', ''), keys.model('Session', '')]) as (string | null)[] | null;
      const payload = found ? toPayload(found) : undefined;
      if (!found || !payload) return undefined;
      const [, , grantId, grantPayload, grantConsumed, sessionUid, sessionPayload, sessionConsumed] = found;
      return {
        payload,
        ...(grantId ? { grant: { id: grantId, payload: toPayload([grantPayload ?? null, grantConsumed ?? null]) } } : {}),
        ...(sessionUid ? { session: { uid: sessionUid, payload: toPayload([sessionPayload ?? null, sessionConsumed ?? null]) } } : {}),
      };
    },

    findModelByUid: (model, uid) => findByIndex(model, keys.uid(model, uid)),
    findModelByUserCode: (model, userCode) => findByIndex(model, keys.userCode(model, userCode)),

    async consumeModel(model: string, id: string): Promise<ConsumeResult> {
      // HSETNX inside the script makes check-and-set one step: concurrent consumes cannot both see "not consumed".
      const result = await runScript(redis, SCRIPTS.consume, [keys.model(model, id)], [epochSeconds()]);
      if (result === 1) return 'consumed';
      return result === 2 ? 'already-consumed' : 'not-found';
    },

    async destroyModel(model: string, id: string): Promise<void> {
      await runScript(redis, SCRIPTS.destroy, model === 'Session' ? [keys.model(model, id), keys.ended(model, id)] : [keys.model(model, id)], []);
    },

    async revokeByGrantId(grantId: string): Promise<number> {
      // One script, so a token saved for the grant while it is being revoked cannot slip between read and delete.
      return Number(await runScript(redis, SCRIPTS.revokeGrant, [keys.grant(grantId)], []));
    },

    async revokeByClientId(clientId: string): Promise<number> {
      // One script for every grant of the client: a grant saved meanwhile is either revoked here or saved after
      // it, when the caller has already removed the client (so no new grant can start for it).
      return Number(await runScript(redis, SCRIPTS.revokeClient, [keys.client(clientId)], [keys.grant('')]));
    },

    async revokeByAccountId(accountId: string, options: RevokeAccountOptions = {}): Promise<AccountRevocation> {
      // One script for all of the account's sessions and grants, so none is missed between reading the index and
      // deleting. A token saved for one of the grants meanwhile is revoked with it, or saved after it and then
      // refused: oidc-provider honours a token only while its grant exists.
      const keepUid = options.exceptSessionUid ? keys.uid('Session', options.exceptSessionUid) : '';
      const result = await runScript(redis, SCRIPTS.revokeAccount, [keys.account(accountId)],
        [keys.model('Session', ''), keys.model('Grant', ''), keys.grant(''), keys.ended('Session', ''), keys.ended('Grant', ''), keepUid, ...(options.keepGrantIds ?? [])]);
      const [sessions, grants] = result as [number, number];
      return { sessions: Number(sessions), grants: Number(grants) };
    },

    async setJson(key: string, value: unknown, ttlSeconds: number): Promise<void> {
      await redis.set(keys.generic(key), toJson(value), 'EX', toTtlSeconds(ttlSeconds));
    },

    async getJson<T = unknown>(key: string): Promise<T | undefined> {
      return parse<T>(await redis.get(keys.generic(key)));
    },

    async takeJson<T = unknown>(key: string): Promise<T | undefined> {
      // GETDEL is one command, so two concurrent takers cannot both get the value.
      return parse<T>(await redis.getdel(keys.generic(key)));
    },

    async increment(key: string, ttlSeconds: number): Promise<number> {
      return Number(await runScript(redis, SCRIPTS.increment, [keys.generic(key)], [toTtlSeconds(ttlSeconds)]));
    },

    async remove(key: string): Promise<boolean> {
      return (await redis.del(keys.generic(key))) > 0;
    },

    async ttl(key: string): Promise<number | undefined> {
      const ms = await redis.pttl(keys.generic(key));
      return ms < 0 ? undefined : Math.ceil(ms / 1000);
    },

    async ping(): Promise<void> {
      await redis.ping();
    },

    async close(): Promise<void> {
      if (redis.status === 'end') return;
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
