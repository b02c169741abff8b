// The short-lived store on Redis: model entries are hashes, indexes are sets and strings, TTLs are native expirations.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  joinConsumed, splitConsumed, toJson, toTtlSeconds,
  type ConsumeResult, type ModelPayload, type ShortLivedStore, type UpsertModelOptions,
} from './short-lived-store.js';

// Each model entry is a hash { id, payload, consumed?, index:grant?, index:uid?, index:user-code?, index:client? }: keeping
// `consumed` in its own field lets consume be one HSETNX instead of a JSON rewrite, and keeping the index
// key names lets destroy and upsert remove stale indexes atomically. Scripts below follow the index names
// they read from the data, so this store needs a standalone Redis (or Sentinel), not Redis Cluster.

const CLEAR_INDEXES = `
local function clearIndexes(key)
  local old = redis.call('HMGET', key, 'id', 'index:grant', 'index:uid', 'index:user-code', 'index:client')
  if old[2] then redis.call('SREM', old[2], key) end
  if old[5] then redis.call('SREM', old[5], key) end
  for i = 3, 4 do
    if old[i] and redis.call('GET', old[i]) == old[1] then redis.call('DEL', old[i]) end
  end
end
`;

// A grant or client index must outlive its longest-lived member, or a revocation would miss that member.
const ADD_TO_SET = `
local function addToSet(setKey, member, ttl)
  local existed = redis.call('EXISTS', setKey)
  redis.call('SADD', setKey, member)
  if ttl == 0 then
    redis.call('PERSIST', setKey)
  else
    local left = redis.call('TTL', setKey)
    if existed == 0 or (left >= 0 and left < ttl) then redis.call('EXPIRE', setKey, ttl) end
  end
end
`;

// KEYS: entry, grant index, uid index, user code index, client index ('' when absent).
// ARGV: id, payload, ttl (0: none), consumed ('' : no).
const UPSERT = CLEAR_INDEXES + ADD_TO_SET + `
local key, grantKey, clientKey = KEYS[1], KEYS[2], KEYS[5]
local id, ttl, consumed = ARGV[1], tonumber(ARGV[3]), ARGV[4]
clearIndexes(key)
redis.call('DEL', key)
redis.call('HSET', key, 'id', id, 'payload', ARGV[2])
if consumed ~= '' then redis.call('HSET', key, 'consumed', consumed) end
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
if grantKey ~= '' then
  redis.call('HSET', key, 'index:grant', grantKey)
  addToSet(grantKey, key, ttl)
end
if clientKey ~= '' then
  redis.call('HSET', key, 'index:client', clientKey)
  addToSet(clientKey, key, ttl)
end
local fields = { 'index:uid', 'index:user-code' }
for i = 1, 2 do
  local indexKey = KEYS[i + 2]
  if indexKey ~= '' then
    redis.call('HSET', key, fields[i], indexKey)
    if ttl > 0 then redis.call('SET', indexKey, id, 'EX', ttl) else redis.call('SET', indexKey, id) end
  end
end
return 1
`;

// KEYS: entry. ARGV: epoch seconds. Returns 1 consumed, 2 already consumed, 0 not found.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return 2
`;

// KEYS: entry.
const DESTROY = CLEAR_INDEXES + `
clearIndexes(KEYS[1])
redis.call('DEL', KEYS[1])
return 1
`;

const REVOKE_GRANT_FUNCTION = CLEAR_INDEXES + `
local function revokeGrant(grantKey)
  local removed = 0
  for _, key in ipairs(redis.call('SMEMBERS', grantKey)) do
    if redis.call('HGET', key, 'index:grant') == grantKey then
      clearIndexes(key)
      removed = removed + redis.call('DEL', key)
    end
  end
  redis.call('DEL', grantKey)
  return removed
end
`;

// KEYS: grant index. Returns how many entries were deleted.
const REVOKE_GRANT = REVOKE_GRANT_FUNCTION + `
return revokeGrant(KEYS[1])
`;

// KEYS: client index. ARGV: the prefix of grant index keys (its grant ids complete them). Returns how many grants.
const REVOKE_CLIENT = REVOKE_GRANT_FUNCTION + `
local revoked = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local grant = redis.call('HMGET', key, 'id', 'index:client')
  if grant[2] == KEYS[1] then
    revokeGrant(ARGV[1] .. grant[1])
    clearIndexes(key)
    revoked = revoked + redis.call('DEL', key)
  end
end
redis.call('DEL', KEYS[1])
return revoked
`;

// KEYS: counter. ARGV: ttl. The TTL is set on creation (or if it was somehow lost), never extended.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
`;

interface LuaScript { source: string; sha: string }

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  upsert: lua(UPSERT), consume: lua(CONSUME), destroy: lua(DESTROY), revokeGrant: lua(REVOKE_GRANT), revokeClient: lua(REVOKE_CLIENT),
  increment: lua(INCREMENT),
};

async function runScript(redis: Redis, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    // The script cache is empty after a Redis restart or SCRIPT FLUSH: send the source once, which caches it.
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return redis.eval(script.source, keys.length, ...keys, ...args);
    }
    throw err;
  }
}

function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Creates the short-lived store on a Redis connection, which it owns from then on (close() quits it). */
export function createRedisStore(redis: Redis, options: { prefix: string }): ShortLivedStore {
  const { prefix } = options;
  const keys = {
    model: (model: string, id: string) => `${prefix}oidc:${model}:${id}`,
    grant: (grantId: string) => `${prefix}oidc-grant:${grantId}`,
    client: (clientId: string) => `${prefix}oidc-client:${clientId}`,
    uid: (model: string, uid: string) => `${prefix}oidc-uid:${model}:${uid}`,
    userCode: (model: string, userCode: string) => `${prefix}oidc-user-code:${model}:${userCode}`,
    generic: (key: string) => `${prefix}kv:${key}`,
  };

  async function findModel(model: string, id: string): Promise<ModelPayload | undefined> {
    const [payload, consumed] = await redis.hmget(keys.model(model, id), 'payload', 'consumed');
    if (payload == null) return undefined;
    return joinConsumed(payload, consumed == null ? undefined : Number(consumed));
  }

  async function findByIndex(model: string, indexKey: string): Promise<ModelPayload | undefined> {
    const id = await redis.get(indexKey);
    return id == null ? undefined : findModel(model, id);
  }

  function parse<T>(json: string | null): T | undefined {
    return json == null ? undefined : JSON.parse(json) as T;
  }

  return {
    async upsertModel(model: string, id: string, payload: ModelPayload, opts: UpsertModelOptions = {}): Promise<void> {
      const { json, consumed } = splitConsumed(payload);
      const ttl = opts.expiresIn === undefined ? 0 : toTtlSeconds(opts.expiresIn);
      const indexKeys = [
        opts.grantId ? keys.grant(opts.grantId) : '',
        opts.uid ? keys.uid(model, opts.uid) : '',
        opts.userCode ? keys.userCode(model, opts.userCode) : '',
        opts.clientId ? keys.client(opts.clientId) : '',
      ];
      await runScript(redis, SCRIPTS.upsert, [keys.model(model, id), ...indexKeys], [id, json, ttl, consumed ?? '']);
    },

    findModel,
    findModelByUid: (model, uid) => findByIndex(model, keys.uid(model, uid)),
    findModelByUserCode: (model, userCode) => findByIndex(model, keys.userCode(model, userCode)),

    async consumeModel(model: string, id: string): Promise<ConsumeResult> {
      // HSETNX inside the script makes check-and-set one step: concurrent consumes cannot both see "not consumed".
      const result = await runScript(redis, SCRIPTS.consume, [keys.model(model, id)], [epochSeconds()]);
      if (result === 1) return 'consumed';
      return result === 2 ? 'already-consumed' : 'not-found';
    },

    async destroyModel(model: string, id: string): Promise<void> {
      await runScript(redis, SCRIPTS.destroy, [keys.model(model, id)], []);
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
