/**
 * The Redis {@linkcode RoomLog}: a room's `seq` and `epoch` in a hash and its
 * kept messages in a stream whose entry ids are the seqs (so `since` and
 * history pages are plain XRANGE / XREVRANGE). One Lua script takes the next
 * seq, appends with the room's retention and publishes to the room's
 * channel, atomically: every node sees one order per room, and a message
 * published is already in the stream (a node that missed it on the channel
 * reads it there).
 *
 * A `msg` costs one EVAL (HGET, HINCRBY, XADD with MAXLEN, PUBLISH inside
 * Redis), whatever the number of members or nodes.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { MsgFrame } from "../protocol/server_frames.ts";
import type { PageQuery, RoomLog, StoredRoom } from "../store/types.ts";
import type { RedisLink, Reply } from "./redis_link.ts";
import { roomChannel, roomLogKey, roomMetaKey } from "./redis_keys.ts";

/** KEYS: meta, log. ARGV: body, kept (0: none), channel, epoch for a new room. Returns the seq. */
const APPEND_SCRIPT = `
if redis.call('hsetnx', KEYS[1], 'epoch', ARGV[4]) == 1 then redis.call('del', KEYS[2]) end
local seq = redis.call('hincrby', KEYS[1], 'seq', 1)
if tonumber(ARGV[2]) > 0 then
  redis.call('xadd', KEYS[2], 'MAXLEN', ARGV[2], seq, 'd', ARGV[1])
end
redis.call('publish', ARGV[3], 'm' .. seq .. '\\n' .. ARGV[1])
return seq
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

/** Parses a room channel's message payload (`m<seq>\n<body>`), or undefined for another kind. */
export function parseRelayedMsg(room: string, payload: string): RelayedMsg | undefined {
  if (payload[0] !== "m") return undefined;
  const newline = payload.indexOf("\n");
  return fromBody(room, Number(payload.slice(1, newline)), payload.slice(newline + 1));
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

  constructor(readonly link: RedisLink, readonly settings: Pick<Settings, "history">) {}

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

  /** Appends and publishes in one step; the frame carries the seq Redis gave it. */
  async append(room: StoredRoom, from: string, text: string, ts: number, origin?: string): Promise<MsgFrame> {
    const body: StoredBody = origin === undefined ? { from, text, ts } : { from, text, ts, o: origin };
    const seq = await this.link.call([
      "EVAL",
      APPEND_SCRIPT,
      2,
      roomMetaKey(room.name),
      roomLogKey(room.name),
      JSON.stringify(body),
      this.settings.history,
      roomChannel(room.name),
      newEpoch(),
    ]);
    return { type: "msg", room: room.name, from, text, seq: Number(seq), ts };
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

  /** Every append is in Redis once its script answered. */
  flush(): boolean {
    return true;
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.link.close();
  }
}
