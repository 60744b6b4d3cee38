-- Atomic matching primitives for several processes on one Redis (see
-- docs/scaling.md). Each call checks its precondition and applies its
-- effect in one script run, or writes nothing and says why.
--
-- KEYS: 1 pairs (hash user -> "partner:since"), 2 waiting (hash ticket ->
-- "user:since"), 3 waiting:user (hash user -> ticket), 4 queue (zset user
-- by ticket), 5 ticket:seq (string), 6 last_partner (hash user ->
-- "partner:ended_at").
-- ARGV[1] is the primitive; the rest are its arguments.
--
-- Replies: {"ok", ...} or {"conflict", reason}.

local pairs_k, waiting_k, by_user_k, queue_k, seq_k, last_k =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

local function partner_of(user)
  local v = redis.call('HGET', pairs_k, user)
  if not v then return nil end
  return string.match(v, '^([^:]+):')
end

local function leave_queue(user)
  local ticket = redis.call('HGET', by_user_k, user)
  if ticket then
    redis.call('HDEL', waiting_k, ticket)
    redis.call('HDEL', by_user_k, user)
    redis.call('ZREM', queue_k, user)
  end
end

local op = ARGV[1]

if op == 'enqueue' then
  -- enqueue(user, since): user must be neither paired nor waiting.
  local user, since = ARGV[2], ARGV[3]
  if partner_of(user) then return { 'conflict', 'chatting' } end
  if redis.call('HEXISTS', by_user_k, user) == 1 then return { 'conflict', 'searching' } end
  local ticket = redis.call('INCR', seq_k)
  redis.call('HSET', waiting_k, ticket, user .. ':' .. since)
  redis.call('HSET', by_user_k, user, ticket)
  redis.call('ZADD', queue_k, ticket, user)
  return { 'ok', tostring(ticket) }
end

if op == 'bind' then
  -- bind(user, candidate, candidate_ticket, since): the candidate must
  -- still wait under that ticket; neither may be paired; user != candidate.
  local user, cand, ticket, since = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  if user == cand then return { 'conflict', 'self' } end
  if partner_of(user) then return { 'conflict', 'chatting' } end
  if partner_of(cand) then return { 'conflict', 'taken' } end
  if redis.call('HGET', by_user_k, cand) ~= ticket then return { 'conflict', 'taken' } end
  leave_queue(user)
  leave_queue(cand)
  redis.call('HSET', pairs_k, user, cand .. ':' .. since)
  redis.call('HSET', pairs_k, cand, user .. ':' .. since)
  return { 'ok' }
end

if op == 'unbind' then
  -- unbind(a, b, ended_at): a and b must be paired with each other.
  local a, b, ended = ARGV[2], ARGV[3], ARGV[4]
  if partner_of(a) ~= b or partner_of(b) ~= a then return { 'conflict', 'gone' } end
  redis.call('HDEL', pairs_k, a, b)
  redis.call('HSET', last_k, a, b .. ':' .. ended)
  redis.call('HSET', last_k, b, a .. ':' .. ended)
  return { 'ok' }
end

if op == 'dequeue' then
  -- dequeue(user, ticket): user must still wait under that ticket.
  local user, ticket = ARGV[2], ARGV[3]
  if redis.call('HGET', by_user_k, user) ~= ticket then return { 'conflict', 'gone' } end
  leave_queue(user)
  return { 'ok' }
end

return redis.error_reply('randchat: unknown matching primitive ' .. tostring(op))
