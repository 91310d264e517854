/**
 * The Redis {@linkcode RoomStateStore}: topic, modes, account operators and
 * bans of every room, shared by all nodes and outliving them.
 *
 * Keys (all of a room under its hash tag, see redis_keys.ts): `state` (a
 * hash: `topic`, `modes`, JSON), `ops` (a set of account names), `bans` (a
 * hash: mask to JSON); and per account the rooms it operates (`opsof`), so
 * dropping an account reaches every room.
 *
 * Each write is one EVAL that changes the room and publishes the change
 * (`s` + JSON {@linkcode StateNote}) on the room's channel in the same step:
 * the other nodes following the room apply it to their live copy
 * (cluster_node.ts), and a node that starts following later reads it with
 * `load`, which is one EVAL too. `forgetOperator` is one EVAL however many
 * rooms the account operated.
 *
 * @module
 */
import type { BanRecord, RoomModes, RoomStateRecord, RoomStateStore, TopicRecord } from "../store/room_state_store.ts";
import { defaultModes } from "../store/room_state_store.ts";
import type { RoomStateChange } from "../hub/hub_cluster.ts";
import { accountOpsKey, roomBansKey, roomChannel, roomOpsKey, roomStateKey } from "./redis_keys.ts";
import type { RedisLink, Reply } from "./redis_link.ts";


/** What goes on the room channel: the node that made the change (`n`) and the change (`c`). */
export interface StateNote {
  n: string;
  c: RoomStateChange;
}

/**
 * KEYS: state, ops, bans. Returns [whether anything was kept, topic JSON or
 * false, modes JSON or false, ops, flat bans]. Every write marks the state
 * hash (`made`), so a room whose state was emptied again still loads as kept.
 */
const LOAD = `
return { redis.call('hexists', KEYS[1], 'made'), redis.call('hget', KEYS[1], 'topic'), redis.call('hget', KEYS[1], 'modes'),
  redis.call('smembers', KEYS[2]), redis.call('hgetall', KEYS[3]) }
`;

/**
 * KEYS: a hash of the room (its state, or its bans), the room's state.
 * ARGV: field, JSON ('' deletes), channel, payload. Topic and modes are
 * fields of the state hash itself; bans are fields of their own hash.
 */
const SET_FIELD = `
if ARGV[2] == '' then redis.call('hdel', KEYS[1], ARGV[1]) else redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('hset', KEYS[2], 'made', 1)
redis.call('publish', ARGV[3], ARGV[4])
return 1
`;

/** KEYS: ops, the account's rooms, state. ARGV: account, 1 or 0, room, channel, payload. */
const SET_OP = `
if ARGV[2] == '1' then
  redis.call('sadd', KEYS[1], ARGV[1])
  redis.call('sadd', KEYS[2], ARGV[3])
else
  redis.call('srem', KEYS[1], ARGV[1])
  redis.call('srem', KEYS[2], ARGV[3])
end
redis.call('hset', KEYS[3], 'made', 1)
redis.call('publish', ARGV[4], ARGV[5])
return 1
`;

/**
 * KEYS: the account's rooms. ARGV: account, node. Removes the account from
 * the operators of each room it operated and tells each room. Room keys are
 * built here (fine on one Redis; see cluster_scripts.ts).
 */
const FORGET_OP = `
local rooms = redis.call('smembers', KEYS[1])
for _, room in ipairs(rooms) do
  redis.call('srem', 'tc:{r:' .. room .. '}:ops', ARGV[1])
  local note = cjson.encode({ n = ARGV[2], c = { t = 'op', account = ARGV[1], op = false } })
  redis.call('publish', 'tc:{r:' .. room .. '}:ch', 's' .. note)
end
redis.call('del', KEYS[1])
return #rooms
`;

/** Room state in Redis, shared by every node; each write tells the other nodes. */
export class RedisRoomStateStore implements RoomStateStore {
  /** This node's id, so it skips its own changes coming back (set when the node joins). */
  origin = "-";

  /** Where a failed write is reported (the hub never waits for a write, so it cannot be told). */
  onWriteError: (error: unknown) => void = () => {};

  constructor(readonly link: RedisLink) {}

  /** Runs a write; a failure is reported, never thrown (the hub issues writes with `void`). */
  async #write(args: (string | number)[]): Promise<void> {
    try {
      await this.link.call(args);
    } catch (error) {
      this.onWriteError(error);
    }
  }

  #note(change: RoomStateChange): string {
    return "s" + JSON.stringify({ n: this.origin, c: change } satisfies StateNote);
  }

  /** RoomStateStore: one EVAL. */
  async load(room: string): Promise<RoomStateRecord | undefined> {
    const reply = await this.link.call(["EVAL", LOAD, 3, roomStateKey(room), roomOpsKey(room), roomBansKey(room)]) as Reply[];
    const [made, topic, modes, ops, bans] = reply;
    const banList = bans as Reply[];
    if (made !== 1) return undefined;
    const record: RoomStateRecord = {
      topic: typeof topic === "string" ? JSON.parse(topic) as TopicRecord : null,
      modes: typeof modes === "string" ? JSON.parse(modes) as RoomModes : defaultModes(),
      operators: (ops as Reply[]).map(String).sort(),
      bans: [],
    };
    for (let i = 1; i < banList.length; i += 2) record.bans.push(JSON.parse(String(banList[i])) as BanRecord);
    return record;
  }

  /** RoomStateStore: one EVAL (write and publish). */
  async setTopic(room: string, topic: TopicRecord | null): Promise<void> {
    const args = ["topic", topic === null ? "" : JSON.stringify(topic), roomChannel(room), this.#note({ t: "topic", topic })];
    await this.#write(["EVAL", SET_FIELD, 2, roomStateKey(room), roomStateKey(room), ...args]);
  }

  /** RoomStateStore: one EVAL (write and publish). */
  async setModes(room: string, modes: RoomModes): Promise<void> {
    const args = ["modes", JSON.stringify(modes), roomChannel(room), this.#note({ t: "modes", modes })];
    await this.#write(["EVAL", SET_FIELD, 2, roomStateKey(room), roomStateKey(room), ...args]);
  }

  /** RoomStateStore: one EVAL (write and publish). */
  async setOperator(room: string, account: string, op: boolean): Promise<void> {
    const note = this.#note({ t: "op", account, op });
    await this.#write(["EVAL", SET_OP, 3, roomOpsKey(room), accountOpsKey(account), roomStateKey(room), account, op ? 1 : 0, room, roomChannel(room), note]);
  }

  /** RoomStateStore: one EVAL (write and publish). */
  async addBan(room: string, ban: BanRecord): Promise<void> {
    await this.#write(["EVAL", SET_FIELD, 2, roomBansKey(room), roomStateKey(room), ban.mask, JSON.stringify(ban), roomChannel(room), this.#note({ t: "ban", ban })]);
  }

  /** RoomStateStore: one EVAL (write and publish). */
  async removeBan(room: string, mask: string): Promise<void> {
    await this.#write(["EVAL", SET_FIELD, 2, roomBansKey(room), roomStateKey(room), mask, "", roomChannel(room), this.#note({ t: "unban", mask })]);
  }

  /** RoomStateStore: one EVAL, whatever the number of rooms. */
  async forgetOperator(account: string): Promise<void> {
    await this.#write(["EVAL", FORGET_OP, 1, accountOpsKey(account), account, this.origin]);
  }
}
