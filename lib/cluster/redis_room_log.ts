/**
 * The Redis {@linkcode RoomLog}: a room's `seq` and `epoch` in a hash and its
 * kept messages in a stream whose entry ids are the seqs (so `since` and
 * history pages are plain XRANGE / XREVRANGE). One Lua script takes the next
 * seq, appends with the room's retention and publishes to the room's
 * channel, atomically: every node sees one order per room, and a message
 * published is already in the stream (a node that missed it on the channel
 * reads it there).
 *
 * The messages a node appends to one room in one turn go in one script call
 * (`append_batches.ts`): one EVALSHA (HSETNX, HINCRBY by the batch's size,
 * one XADD per message, one XTRIM, one PUBLISH carrying the whole batch),
 * whatever the number of members or nodes; a lone message costs the same
 * one call.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { PageQuery, RoomLog, StoredRoom } from "../store/types.ts";
import type { RedisLink, Reply } from "./redis_link.ts";
import { roomChannel, roomLogKey, roomMetaKey } from "./redis_keys.ts";
import { AppendBatches } from "./append_batches.ts";

/**
 * KEYS: meta, log. ARGV: kept (0: none), channel, epoch for a new room,
 * then one body per message. Takes seqs first..first+n-1, stores each
 * message under its seq, trims to `kept`, publishes the batch as one
 * payload ({@linkcode parseBatchHeader}). Returns first.
 */
const APPEND_SCRIPT = `
if redis.call('hsetnx', KEYS[1], 'epoch', ARGV[3]) == 1 then redis.call('del', KEYS[2]) end
local n = #ARGV - 3
local first = redis.call('hincrby', KEYS[1], 'seq', n) - n + 1
local kept = tonumber(ARGV[1])
if kept > 0 then
  for i = 1, n do redis.call('xadd', KEYS[2], first + i - 1, 'd', ARGV[3 + i]) end
  redis.call('xtrim', KEYS[2], 'MAXLEN', kept)
end
redis.call('publish', ARGV[2], 'b' .. first .. ' ' .. n .. '\\n' .. table.concat(ARGV, '\\n', 4))
return first
`;

/** KEYS: meta. ARGV: epoch for a new room. Returns [seq, epoch]. */
const OPEN_SCRIPT = `
redis.call('hsetnx', KEYS[1], 'epoch', ARGV[1])
return redis.call('hmget', KEYS[1], 'seq', 'epoch')
`;

/** The body of a stored message: what the frame needs besides room and seq, plus who sent it. */
interface StoredBody {
  from: string;
  text: string;
  ts: number;
  /** Origin: `SESSION ID` (the sender's session and its frame id), so that node acks its own copy. */
  o?: string;
}

/** A message as it travels over a room channel: the frame and its origin. */
export interface RelayedMsg {
  msg: MsgFrame;
  origin: string | undefined;
}

/**
 * A room channel's message payload: `b<first seq> <count>\n` then one JSON
 * body per message, separated by `\n` (JSON text never holds a raw
 * newline). Returns the header, or undefined for another kind of payload.
 */
export function parseBatchHeader(payload: string): { first: number; count: number; bodiesAt: number } | undefined {
  if (payload[0] !== "b") return undefined;
  const space = payload.indexOf(" ");
  const newline = payload.indexOf("\n", space);
  if (space < 0 || newline < 0) return undefined;
  return { first: Number(payload.slice(1, space)), count: Number(payload.slice(space + 1, newline)), bodiesAt: newline + 1 };
}

/**
 * The messages of a batch payload whose seq is above `after` (those at or
 * below it were delivered already: only the rest is parsed).
 */
export function parseBatch(room: string, payload: string, after = 0): RelayedMsg[] {
  const header = parseBatchHeader(payload);
  if (!header) return [];
  const out: RelayedMsg[] = [];
  let at = header.bodiesAt;
  for (let i = 0; i < header.count && at <= payload.length; i++) {
    let end = payload.indexOf("\n", at);
    if (end < 0) end = payload.length;
    const seq = header.first + i;
    if (seq > after) out.push(fromBody(room, seq, payload.slice(at, end)));
    at = end + 1;
  }
  return out;
}

/** The payload {@linkcode APPEND_SCRIPT} publishes, built the same way (for tests). */
export function batchPayload(first: number, bodies: string[]): string {
  return `b${first} ${bodies.length}\n${bodies.join("\n")}`;
}

/** A message's stored body (JSON), as {@linkcode RedisRoomLog.append} writes it. */
export function storedBody(from: string, text: string, ts: number, origin?: string): string {
  return JSON.stringify(origin === undefined ? { from, text, ts } : { from, text, ts, o: origin });
}

function fromBody(room: string, seq: number, body: string): RelayedMsg {
  const b = JSON.parse(body) as StoredBody;
  return { msg: { type: "msg", room, from: b.from, text: b.text, seq, ts: b.ts }, origin: b.o };
}

/** A fresh epoch: random enough that two rooms' incarnations never share one. */
function newEpoch(): string {
  return `${Date.now().toString(36)}.${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
}

/** Rooms' streams in Redis. */
export class RedisRoomLog implements RoomLog {
  readonly durable = true;

  /** This node's appends waiting for the end of the turn, one batch per room. */
  readonly batches: AppendBatches = new AppendBatches((room, bodies) => this.#sendBatch(room, bodies));

  constructor(readonly link: RedisLink, readonly settings: Pick<Settings, "history">) {
    // Any other command goes after the appends issued before it.
    link.beforeCall = () => this.batches.flush();
  }

  /** Rooms are opened from Redis when a local user joins them ({@linkcode open}), never restored at start. */
  rooms(_limit: number): StoredRoom[] {
    return [];
  }

  /** A room's seq and epoch in Redis (giving it an epoch if it is new). */
  async open(name: string): Promise<StoredRoom> {
    const [seq, epoch] = await this.link.call(["EVAL", OPEN_SCRIPT, 1, roomMetaKey(name), newEpoch()]) as [
      string | null,
      string,
    ];
    return { name, seq: Number(seq ?? 0), epoch };
  }

  /**
   * Appends and publishes in one step (with the other messages of this room
   * and turn); the frame carries the seq Redis gave it, and is only made
   * once Redis answered.
   */
  append(room: StoredRoom, from: string, text: string, ts: number, origin?: string): Promise<MsgFrame> {
    const name = room.name;
    return this.batches.add(name, storedBody(from, text, ts, origin), (seq): MsgFrame => ({ type: "msg", room: name, from, text, seq, ts }));
  }

  #sendBatch(room: string, bodies: string[]): Promise<number> {
    return this.link.call([
      "EVAL",
      APPEND_SCRIPT,
      2,
      roomMetaKey(room),
      roomLogKey(room),
      this.settings.history,
      roomChannel(room),
      newEpoch(),
      ...bodies,
    ]).then(Number);
  }

  /** Kept messages by seq, straight from the stream. */
  async page(room: string, query: PageQuery): Promise<MsgFrame[]> {
    return (await this.pageRelayed(room, query)).map((r) => r.msg);
  }

  /** Like {@linkcode page}, with each message's origin (for filling a gap in delivery). */
  async pageRelayed(room: string, query: PageQuery): Promise<RelayedMsg[]> {
    const key = roomLogKey(room);
    let entries: Reply;
    if (query.after !== undefined) {
      const to = query.before !== undefined ? String(query.before - 1) : "+";
      entries = await this.link.call(["XRANGE", key, query.after + 1, to, "COUNT", query.limit]);
    } else {
      if (query.before !== undefined && query.before <= 1) return [];
      const from = query.before !== undefined ? String(query.before - 1) : "+";
      entries = await this.link.call(["XREVRANGE", key, from, "-", "COUNT", query.limit]);
      (entries as Reply[]).reverse();
    }
    return (entries as [string, string[]][]).map(([id, fields]) => fromBody(room, parseInt(id, 10), fields[1]));
  }

  /** Other nodes may use the room: retention is the stream's MAXLEN, nothing to delete here. */
  forget(_room: string): void {}

  /**
   * Sends the appends waiting for the end of the turn (called before the
   * node's output leaves). Nothing to wait for here: a message goes out
   * only after its script answered.
   */
  flush(): boolean {
    this.batches.flush();
    return true;
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.link.close();
  }
}
