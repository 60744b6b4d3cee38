-- Begins one decision of a randchat instance sharing this prefix with
-- others (see src/store/redis/shared.rs and docs/scaling.md).
--
-- ARGV: 1 lease key, 2 this instance's token, 3 lease time (ms),
--       4 version key, 5 change log (stream), 6 the version this instance
--       has applied, 7 the most log entries to hand back, 8 prefix of the
--       update keys, 9.. update ids of the batch.
--
-- Returns { 0, pttl } while another instance holds the lease (nothing
-- written), else takes (or renews) the lease and returns
-- { 1, version, reload, { applied update ids }, { log entries after ours } }
-- where reload = 1 when the log no longer holds every entry after ours
-- (trimmed, or the server lost data): the caller then reloads everything.

local lease, token, ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local holder = redis.call('GET', lease)
if holder and holder ~= token then
  return { 0, redis.call('PTTL', lease) }
end
redis.call('SET', lease, token, 'PX', ms)

local version = tonumber(redis.call('GET', ARGV[4]) or '0')
local ours = tonumber(ARGV[6])
local limit = tonumber(ARGV[7])
local reload = 0
local entries = {}
if version < ours or version - ours > limit then
  reload = 1
elseif version > ours then
  local found = redis.call('XRANGE', ARGV[5], (ours + 1) .. '-0', '+', 'COUNT', version - ours)
  if #found ~= version - ours then
    reload = 1
  else
    for index, entry in ipairs(found) do
      -- entry: { id, { 'r', payload } }; ids are '<version>-1'.
      local id = tonumber(string.match(entry[1], '^(%d+)-'))
      if id ~= ours + index then
        reload = 1
        entries = {}
        break
      end
      entries[index] = entry[2][2]
    end
  end
end

local applied = {}
for i = 9, #ARGV do
  if redis.call('EXISTS', ARGV[8] .. ARGV[i]) == 1 then
    applied[#applied + 1] = ARGV[i]
  end
end
return { 1, version, reload, applied, entries }
