-- An instance's sign of life, and the adoption of dead instances' outboxes
-- (see src/store/redis/shared.rs).
--
-- ARGV: 1 prefix of the alive keys, 2 this instance's id, 3 how long a sign
--       of life lasts (ms), 4 the set of instance ids, 5 prefix of the
--       per-instance outboxes, 6 the outbox of a randchat without instances
--       (older versions, `randchat import`), 7 the first free send number of
--       this instance.
--
-- Every outbox whose instance has given no sign of life within its time is
-- moved into this instance's outbox, under fresh send numbers from ARGV[7]
-- on, in one go (so two instances can't both adopt it). Returns how many
-- other instances are alive, then the moved sends:
-- { others, { seq, send, seq, send, ... } }.

local alive, me, ms, instances = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local prefix, legacy = ARGV[5], ARGV[6]
local mine = prefix .. me
local next_seq = tonumber(ARGV[7])

redis.call('SET', alive .. me, '1', 'PX', ms)
redis.call('SADD', instances, me)

local others = 0
local moved = {}
local function adopt(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  if t ~= 'hash' then return end
  local entries = redis.call('HGETALL', key)
  -- Keep the dead instance's order: sort by its send numbers.
  local order = {}
  for i = 1, #entries, 2 do
    order[#order + 1] = { tonumber(entries[i]), entries[i + 1] }
  end
  table.sort(order, function(a, b) return a[1] < b[1] end)
  for _, entry in ipairs(order) do
    redis.call('HSET', mine, next_seq, entry[2])
    moved[#moved + 1] = next_seq
    moved[#moved + 1] = entry[2]
    next_seq = next_seq + 1
  end
  redis.call('DEL', key)
end

for _, other in ipairs(redis.call('SMEMBERS', instances)) do
  if other ~= me and redis.call('EXISTS', alive .. other) == 0 then
    adopt(prefix .. other)
    redis.call('SREM', instances, other)
  elseif other ~= me then
    others = others + 1
  end
end
if legacy ~= mine then
  adopt(legacy)
end
return { others, moved }
