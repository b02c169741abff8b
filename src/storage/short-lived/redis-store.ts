// The short-lived store on Redis: model entries are hashes, indexes are sets and strings, TTLs are native expirations.
import { createHash } from 'node:crypto';
import type { RedisClient } from './connect-redis.js';
import {
  joinConsumed, splitConsumed, toJson, toTtlSeconds,
  type AccountRevocation, type ConsumeResult, type ModelPayload, type RevokeAccountOptions, type ShortLivedStore,
  type UpsertModelOptions,
} from './short-lived-store.js';

// Each model entry is a hash { id, payload, consumed?, index:grant?, index:uid?, index:user-code?, index:client?,
// index:account? }: keeping
// `consumed` in its own field lets consume be one HSETNX instead of a JSON rewrite, and keeping the index
// key names lets destroy and upsert remove stale indexes atomically. Scripts below follow the index names
// they read from the data, and revoking a client or an account builds grant keys from their ids: keys a script does not
// declare. Redis Cluster allows that only within the slot of the declared keys, so with Cluster the prefix
// carries a hash tag (`{twofold}:`, see config.ts) and every key of this store lives in that one slot.

const CLEAR_INDEXES = `
local function clearIndexes(key)
  local old = redis.call('HMGET', key, 'id', 'index:grant', 'index:uid', 'index:user-code', 'index:client', 'index:account')
  if old[2] then redis.call('SREM', old[2], key) end
  if old[5] then redis.call('SREM', old[5], key) end
  if old[6] then redis.call('SREM', old[6], key) end
  for i = 3, 4 do
    if old[i] and redis.call('GET', old[i]) == old[1] then redis.call('DEL', old[i]) end
  end
end
`;

// A grant, client or account index must outlive its longest-lived member, or a revocation would miss that member.
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

// KEYS: entry, then the index keys it has. ARGV: id, payload, ttl (0: none), consumed ('' : no), then the field of
// each index key in turn (index:grant, index:client, index:account: sets of entries; index:uid, index:user-code: the
// entry's id; ended: the mark revokeByAccountId leaves, which makes the upsert do nothing and return 0).
// Only keys that exist are passed: an empty key name would hash to its own Cluster slot.
const UPSERT = CLEAR_INDEXES + ADD_TO_SET + `
local key = KEYS[1]
local id, ttl, consumed = ARGV[1], tonumber(ARGV[3]), ARGV[4]
for i = 2, #KEYS do
  if ARGV[i + 3] == 'ended' and redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
clearIndexes(key)
redis.call('DEL', key)
redis.call('HSET', key, 'id', id, 'payload', ARGV[2])
if consumed ~= '' then redis.call('HSET', key, 'consumed', consumed) end
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
for i = 2, #KEYS do
  local indexKey, field = KEYS[i], ARGV[i + 3]
  if field ~= 'ended' then
    redis.call('HSET', key, field, indexKey)
    if field == 'index:grant' or field == 'index:client' or field == 'index:account' then
      addToSet(indexKey, key, ttl)
    elseif ttl > 0 then
      redis.call('SET', indexKey, id, 'EX', ttl)
    else
      redis.call('SET', indexKey, id)
    end
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

// KEYS: account index. ARGV: the key prefix of Session entries and Grant entries, of grant indexes, and of the marks
// left for ended Session and Grant entries; the uid index key of the session to keep ('' for none); then the ids of
// the grants to keep. Returns { sessions, grants }. Members whose entry is gone or belongs to another account now are
// dropped from the index; spared ones stay in it. Each ended entry leaves a mark for as long as it had to live, so
// that a request that read it before cannot save it again after (UPSERT refuses an entry with a mark).
const REVOKE_ACCOUNT = REVOKE_GRANT_FUNCTION + `
local sessionPrefix, grantPrefix, grantIndexPrefix, endedSessionPrefix, endedGrantPrefix, keepUid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local keepGrants = {}
for i = 7, #ARGV do keepGrants[ARGV[i]] = true end
local function endEntry(key, endedKey)
  local left = redis.call('PTTL', key)
  redis.call('SET', endedKey, '1', 'PX', left > 0 and left or 86400000)
  clearIndexes(key)
  return redis.call('DEL', key)
end
local sessions, grants = 0, 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('HMGET', key, 'id', 'index:account', 'index:uid')
  if entry[2] ~= KEYS[1] then
    redis.call('SREM', KEYS[1], key)
  elseif string.sub(key, 1, #sessionPrefix) == sessionPrefix then
    if keepUid == '' or entry[3] ~= keepUid then
      sessions = sessions + endEntry(key, endedSessionPrefix .. entry[1])
    end
  elseif string.sub(key, 1, #grantPrefix) == grantPrefix then
    if not keepGrants[entry[1]] then
      revokeGrant(grantIndexPrefix .. entry[1])
      grants = grants + endEntry(key, endedGrantPrefix .. entry[1])
    end
  end
end
return { sessions, grants }
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
  revokeAccount: lua(REVOKE_ACCOUNT), increment: lua(INCREMENT),
};

async function runScript(redis: RedisClient, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
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
      const indexes: [field: string, key: string][] = [];
      if (opts.grantId) indexes.push(['index:grant', keys.grant(opts.grantId)]);
      if (opts.uid) indexes.push(['index:uid', keys.uid(model, opts.uid)]);
      if (opts.userCode) indexes.push(['index:user-code', keys.userCode(model, opts.userCode)]);
      if (opts.clientId) indexes.push(['index:client', keys.client(opts.clientId)]);
      if (opts.accountId) indexes.push(['index:account', keys.account(opts.accountId)], ['ended', keys.ended(model, id)]);
      await runScript(redis, SCRIPTS.upsert, [keys.model(model, id), ...indexes.map(([, key]) => key)], [id, json, ttl, consumed ?? '', ...indexes.map(([field]) => field)]);
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
