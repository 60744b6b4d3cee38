-- Applies one randchat Batch atomically (see src/store/redis/ops.rs).
--
-- ARGV is a flat list of operations: an op name followed by its fixed
-- arguments. Key names arrive complete (prefix included) from Rust, which
-- owns the key layout; this script only knows how each op changes them.
--
-- Redis runs a script without interleaving other commands, but it does not
-- roll back the writes of a script that fails half-way. So the script works
-- in two passes: the first checks every op's arity and every key's type and
-- writes nothing; only if all is well does the second pass write. Nothing
-- in the second pass can fail on well-typed keys.
--
-- ARGV[1] says how the batch is fenced (see src/store/redis/shared.rs):
--   'plain': bookkeeping only (finished sends, links, counters); the ops
--     follow at once.
--   'fenced': a batch an instance's engine decided. ARGV[2] lease key,
--     3 the instance's token, 4 version key, 5 the version the decision
--     was made on, 6 change log (stream), 7 the change-log entry ('' if the
--     batch changes no replicated state), 8 how many log entries to keep,
--     9 prefix of the update keys, 10 how many update ids follow, then the
--     ids, then the ops. The batch is written only if no other instance
--     holds the lease and the version is still the one decided on;
--     otherwise nothing is written and the reply is an error starting
--     'randchat: conflict'. On success the version is bumped (when there
--     is a log entry), the entry appended, the updates marked applied for
--     a day, and the lease released. Returns the version now.

-- op name -> { arity, { [argument index] = expected key type } }
local OPS = {
  HSET    = { 3, { [1] = 'hash' } },
  HDEL    = { 2, { [1] = 'hash' } },
  HINCRBY = { 3, { [1] = 'hash' } },
  SEEN    = { 4, { [1] = 'hash', [2] = 'hash' } },
  PAIR    = { 4, { [1] = 'hash' } },
  UNPAIR  = { 3, { [1] = 'hash' } },
  SETEXAT = { 3, { [1] = 'string' } },
  ZADD    = { 3, { [1] = 'zset' } },
  PRUNE   = { 3, { [1] = 'zset' } },
  REPORT  = { 5, { [1] = 'string', [2] = 'hash', [3] = 'zset' } },
}

local function key_type(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  return t
end

local first = 2
local fenced = ARGV[1] == 'fenced'
if fenced then
  local holder = redis.call('GET', ARGV[2])
  if holder and holder ~= ARGV[3] then
    return redis.error_reply('randchat: conflict: another instance holds the lease; nothing was written')
  end
  local version = redis.call('GET', ARGV[4]) or '0'
  if version ~= ARGV[5] then
    return redis.error_reply('randchat: conflict: decided on version ' .. ARGV[5] .. ' but the store is at ' .. version .. '; nothing was written')
  end
  -- The log's ids are versions; one at or past the next version would make
  -- the XADD below fail after the writes, so refuse now instead.
  local last = redis.call('XREVRANGE', ARGV[6], '+', '-', 'COUNT', 1)[1]
  if last and tonumber(string.match(last[1], '^(%d+)-')) > tonumber(version) then
    return redis.error_reply('randchat: conflict: the change log is ahead of version ' .. version .. '; nothing was written')
  end
  first = 11 + tonumber(ARGV[10])
elseif ARGV[1] ~= 'plain' then
  return redis.error_reply('randchat: unknown batch kind ' .. tostring(ARGV[1]))
end

-- Pass 1: validate.
local checked = {}
local i = first
local n = #ARGV
while i <= n do
  local name = ARGV[i]
  local spec = OPS[name]
  if not spec then
    return redis.error_reply('randchat: unknown op ' .. tostring(name) .. ' at ' .. i)
  end
  if i + spec[1] > n then
    return redis.error_reply('randchat: op ' .. name .. ' at ' .. i .. ' is cut short')
  end
  for index, want in pairs(spec[2]) do
    local key = ARGV[i + index]
    if checked[key] == nil then
      local have = key_type(key)
      if have ~= 'none' and have ~= want then
        return redis.error_reply('randchat: key ' .. key .. ' holds a ' .. have .. ', expected a ' .. want .. '; nothing was written')
      end
      checked[key] = want
    elseif checked[key] ~= want then
      return redis.error_reply('randchat: key ' .. key .. ' used as two types')
    end
  end
  -- Values that a write would choke on (HINCRBY and INCR on text that is
  -- not an integer) are refused here too.
  if name == 'HINCRBY' then
    local v = redis.call('HGET', ARGV[i + 1], ARGV[i + 2])
    if v and not string.match(v, '^%-?%d+$') then
      return redis.error_reply('randchat: ' .. ARGV[i + 1] .. ' ' .. ARGV[i + 2] .. ' is not an integer; nothing was written')
    end
  elseif name == 'REPORT' then
    local v = redis.call('GET', ARGV[i + 1])
    if v and not string.match(v, '^%d+$') then
      return redis.error_reply('randchat: ' .. ARGV[i + 1] .. ' is not an integer; nothing was written')
    end
  end
  i = i + spec[1] + 1
end

-- "partner:since" -> partner (as a string), or nil.
local function partner_of(pairs_key, user)
  local v = redis.call('HGET', pairs_key, user)
  if not v then return nil end
  return string.match(v, '^([^:]+):')
end

-- Pass 2: write.
local applied = 0
i = first
while i <= n do
  local name = ARGV[i]
  local a1, a2, a3, a4, a5 = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if name == 'HSET' then
    redis.call('HSET', a1, a2, a3)
  elseif name == 'HDEL' then
    redis.call('HDEL', a1, a2)
  elseif name == 'HINCRBY' then
    redis.call('HINCRBY', a1, a2, a3)
  elseif name == 'SEEN' then
    -- first seen: the first sighting recorded; last seen: the latest.
    redis.call('HSETNX', a1, a3, a4)
    local last = tonumber(redis.call('HGET', a2, a3))
    if not last or last < tonumber(a4) then
      redis.call('HSET', a2, a3, a4)
    end
  elseif name == 'PAIR' then
    -- A user is in at most one pair: if either side still points at
    -- someone else who points back, drop that stale reverse entry.
    for _, xy in ipairs({ { a2, a3 }, { a3, a2 } }) do
      local old = partner_of(a1, xy[1])
      if old and old ~= xy[2] and partner_of(a1, old) == xy[1] then
        redis.call('HDEL', a1, old)
      end
    end
    redis.call('HSET', a1, a2, a3 .. ':' .. a4)
    redis.call('HSET', a1, a3, a2 .. ':' .. a4)
  elseif name == 'UNPAIR' then
    local a_to_b = partner_of(a1, a2) == a3
    local b_to_a = partner_of(a1, a3) == a2
    if a_to_b then redis.call('HDEL', a1, a2) end
    if b_to_a then redis.call('HDEL', a1, a3) end
  elseif name == 'SETEXAT' then
    redis.call('SET', a1, a2)
    redis.call('EXPIREAT', a1, a3)
  elseif name == 'ZADD' then
    redis.call('ZADD', a1, a2, a3)
  elseif name == 'PRUNE' then
    -- a1: the index (member -> time), a2: prefix of the member keys,
    -- a3: forget members older than this.
    local old = redis.call('ZRANGEBYSCORE', a1, '-inf', '(' .. a3)
    for _, member in ipairs(old) do
      redis.call('DEL', a2 .. member)
    end
    redis.call('ZREMRANGEBYSCORE', a1, '-inf', '(' .. a3)
  elseif name == 'REPORT' then
    -- a1: id sequence, a2: id -> report, a3: time index, a4: time, a5: report.
    local id = redis.call('INCR', a1)
    redis.call('HSET', a2, id, a5)
    redis.call('ZADD', a3, a4, id)
  end
  applied = applied + 1
  i = i + OPS[name][1] + 1
end
if not fenced then
  return applied
end
local version = tonumber(ARGV[5])
if ARGV[7] ~= '' then
  version = redis.call('INCR', ARGV[4])
  redis.call('XADD', ARGV[6], 'MAXLEN', '~', ARGV[8], version .. '-1', 'r', ARGV[7])
end
for k = 11, 10 + tonumber(ARGV[10]) do
  redis.call('SET', ARGV[9] .. ARGV[k], '1', 'EX', 86400)
end
if redis.call('GET', ARGV[2]) == ARGV[3] then
  redis.call('DEL', ARGV[2])
end
return version
