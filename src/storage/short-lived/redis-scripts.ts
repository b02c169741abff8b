// The Lua scripts of the Redis store: each change that touches an entry and its indexes runs as one atomic script.
import { createHash } from 'node:crypto';
import type { RedisClient } from './connect-redis.js';

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
// KEYS: entry, then (for a session) its ended mark. A session of an account that is destroyed (a logout) leaves the
// mark for the rest of its lifetime, as revokeByAccountId does: a request that read it just before cannot save it back.
const DESTROY = CLEAR_INDEXES + `
if KEYS[2] and redis.call('HEXISTS', KEYS[1], 'index:account') == 1 then
  local left = redis.call('PTTL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', left > 0 and left or 86400000)
end
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

// KEYS: an index that holds an entry's id (index:uid, index:user-code). ARGV: the model's key prefix. Returns the
// entry's payload and consumed fields: one round trip instead of two.
const FIND_BY_INDEX = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('HMGET', ARGV[1] .. id, 'payload', 'consumed')
`;

// KEYS: entry. ARGV: the key prefix of Grant entries, of the Session uid index and of Session entries. Returns the
// entry's payload and consumed fields, then the grant id its payload names with that Grant's two fields, then the
// session uid of an entry that expires with its session with that Session's two fields ('' and nils where there is
// none): oidc-provider reads the entry, then its session, then its grant, each waiting for the one before.
const FIND_WITH_RELATED = `
local entry = redis.call('HMGET', KEYS[1], 'payload', 'consumed')
if not entry[1] then return false end
local reply = { entry[1], entry[2], '', false, false, '', false, false }
local ok, data = pcall(cjson.decode, entry[1])
if ok and type(data) == 'table' then
  if type(data.grantId) == 'string' then
    local grant = redis.call('HMGET', ARGV[1] .. data.grantId, 'payload', 'consumed')
    reply[3], reply[4], reply[5] = data.grantId, grant[1], grant[2]
  end
  if data.expiresWithSession == true and type(data.sessionUid) == 'string' then
    reply[6] = data.sessionUid
    local id = redis.call('GET', ARGV[2] .. data.sessionUid)
    if id then
      local session = redis.call('HMGET', ARGV[3] .. id, 'payload', 'consumed')
      reply[7], reply[8] = session[1], session[2]
    end
  end
end
return reply
`;

export interface LuaScript { source: string; sha: string }

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Every script of the store, with its SHA1 for EVALSHA. */
export const SCRIPTS = {
  upsert: lua(UPSERT), consume: lua(CONSUME), destroy: lua(DESTROY), revokeGrant: lua(REVOKE_GRANT), revokeClient: lua(REVOKE_CLIENT),
  revokeAccount: lua(REVOKE_ACCOUNT), increment: lua(INCREMENT), findByIndex: lua(FIND_BY_INDEX),
  findWithRelated: lua(FIND_WITH_RELATED),
};

/** Runs a script by its SHA1, sending the source once when Redis does not have it cached. */
export async function runScript(redis: RedisClient, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
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
