/**
 * Guest operators on record, so other nodes see them. A guest operator is
 * a session (the first guest in an empty room, or a guest made operator),
 * kept by its own node; without this, `who` on another node would not mark
 * it and a locked topic there would not count it as present.
 *
 * Each room has a hash `tc:{r:NAME}:gops`: nick key to `NODE SESSION`, the
 * holder of that nick when it became an operator. Its node writes it when
 * the session becomes one and deletes it when it stops (deop, leave,
 * disconnect). An entry whose nick is no longer held by that session (its
 * node died, or it renamed) is stale: the read drops it. Reading the room's
 * members and its guest operators is one script, so `who` and a join still
 * cost one round trip.
 *
 * @module
 */
import { nickKeyOf } from "./redis_keys.ts";

/** A room's guest operators (a hash: nick key to `NODE SESSION`). */
export const guestOpsKey = (room: string): string => `tc:{r:${room}}:gops`;

/**
 * KEYS: members, guest operators. ARGV: the nick key prefix. Returns the
 * members hash (flat) and the nick keys of guest operators whose nick is
 * still held by the session that was made operator; stale entries are deleted.
 */
export const MEMBERS_AND_GUEST_OPS = `
local ops = {}
local g = redis.call('hgetall', KEYS[2])
for i = 1, #g, 2 do
  if redis.call('get', ARGV[1] .. g[i]) == g[i + 1] then table.insert(ops, g[i]) else redis.call('hdel', KEYS[2], g[i]) end
end
return { redis.call('hgetall', KEYS[1]), ops }
`;

/** The nick key prefix the script appends a nick key to. */
export const NICK_PREFIX = nickKeyOf("");

/** The command that records (`op`) or forgets a guest operator of `room`. */
export function guestOpCommand(room: string, key: string, holder: string, op: boolean): string[] {
  return op ? ["HSET", guestOpsKey(room), key, holder] : ["HDEL", guestOpsKey(room), key];
}
