/**
 * The Lua scripts of the cluster's shared state besides messages (those are
 * in `redis_room_log.ts`): nick claims, room members, DMs and cleaning up
 * after a dead node. Each runs atomically inside Redis, so a step never
 * races another node's, and costs one round trip.
 *
 * Key names are built inside some scripts (a dead node's rooms, a DM's
 * node): fine on one Redis; on a Redis Cluster these would be split per
 * slot (see docs/cluster.md).
 *
 * @module
 */

/**
 * KEYS: nick, holdings of this node. ARGV: node, session, nick key, nick.
 * Takes the nick unless another node holds it (a claim of this node's own
 * is stale: the hub checked that no local session holds it). A dead node's
 * nicks are freed when it is reaped, after its users' `leave` went out, so
 * a user who reconnects elsewhere is seen to leave once, then to join.
 * Returns 1, or 0 when taken.
 */
export const CLAIM_NICK = `
local h = redis.call('get', KEYS[1])
if h and string.match(h, '^(%S+)') ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
redis.call('hset', KEYS[2], '@' .. ARGV[3], ARGV[4])
return 1
`;

/** KEYS: nick, holdings. ARGV: node, session, nick key. Deletes the claim if this session still holds it. */
export const RELEASE_NICK = `
if redis.call('get', KEYS[1]) == ARGV[1] .. ' ' .. ARGV[2] then
  redis.call('del', KEYS[1])
  redis.call('hdel', KEYS[2], '@' .. ARGV[3])
end
return 1
`;

/**
 * KEYS: room members, rooms, holdings. ARGV: room, key, member JSON ('' to
 * remove), old key ('' if none), member count change, channel, payload, nick.
 * Records a member change and publishes the event to the room's channel.
 */
export const MEMBER_EVENT = `
local hold = ARGV[1] .. '\\t'
if ARGV[4] ~= '' then
  redis.call('hdel', KEYS[1], ARGV[4])
  redis.call('hdel', KEYS[3], hold .. ARGV[4])
end
if ARGV[3] == '' then
  redis.call('hdel', KEYS[1], ARGV[2])
  redis.call('hdel', KEYS[3], hold .. ARGV[2])
else
  redis.call('hset', KEYS[1], ARGV[2], ARGV[3])
  redis.call('hset', KEYS[3], hold .. ARGV[2], ARGV[8])
end
local d = tonumber(ARGV[5])
if d ~= 0 and redis.call('hincrby', KEYS[2], ARGV[1], d) <= 0 then redis.call('hdel', KEYS[2], ARGV[1]) end
redis.call('publish', ARGV[6], ARGV[7])
return 1
`;

/** KEYS: nick. ARGV: payload. Publishes a DM to the node holding the nick; 0 when nobody (alive) does. */
export const SEND_DM = `
local h = redis.call('get', KEYS[1])
if not h then return 0 end
local node = string.match(h, '^(%S+)')
if redis.call('exists', 'tc:node:' .. node .. ':alive') == 0 then return 0 end
redis.call('publish', 'tc:node:' .. node .. ':ch', ARGV[1])
return 1
`;

/**
 * KEYS: the node's holdings, the node set. ARGV: node, reason. Everything a
 * node's users held is released, and each room hears `leave` and `presence`
 * `offline` with `reason` (published as coming from that node, so every
 * live node tells its members). Returns how many room memberships ended.
 */
export const REAP_NODE = `
local holds = redis.call('hgetall', KEYS[1])
local rooms_of = {}
local nicks = {}
local ended = 0
for i = 1, #holds, 2 do
  local f, nick = holds[i], holds[i + 1]
  if string.sub(f, 1, 1) == '@' then
    local key = 'tc:nick:' .. string.sub(f, 2)
    local h = redis.call('get', key)
    if h and string.match(h, '^(%S+)') == ARGV[1] then redis.call('del', key) end
  else
    local tab = string.find(f, '\\t', 1, true)
    local room, nk = string.sub(f, 1, tab - 1), string.sub(f, tab + 1)
    redis.call('hdel', 'tc:{r:' .. room .. '}:members', nk)
    if redis.call('hincrby', 'tc:rooms', room, -1) <= 0 then redis.call('hdel', 'tc:rooms', room) end
    redis.call('publish', 'tc:{r:' .. room .. '}:ch', 'e' .. cjson.encode({n = ARGV[1], f = {type = 'leave', room = room, nick = nick, reason = ARGV[2]}}))
    if not rooms_of[nk] then rooms_of[nk] = {}; nicks[nk] = nick end
    table.insert(rooms_of[nk], room)
    ended = ended + 1
  end
end
for nk, rooms in pairs(rooms_of) do
  local payload = 'e' .. cjson.encode({n = ARGV[1], x = ARGV[1] .. ':' .. nk, r = rooms, f = {type = 'presence', nick = nicks[nk], status = 'offline', reason = ARGV[2]}})
  for _, room in ipairs(rooms) do redis.call('publish', 'tc:{r:' .. room .. '}:ch', payload) end
end
redis.call('del', KEYS[1])
redis.call('srem', KEYS[2], ARGV[1])
redis.call('del', 'tc:node:' .. ARGV[1] .. ':alive')
return ended
`;

/** ARGV: channel, payload. A PUBLISH sent as EVAL, so it keeps its place among the scripts before it (see RedisLink.call). */
export const PUBLISH = `
redis.call('publish', ARGV[1], ARGV[2])
return 1
`;
