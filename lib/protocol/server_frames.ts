/**
 * Server-to-client frames. Each is a plain object whose first key is `type`,
 * so `JSON.stringify` yields `{"type":"msg",...}` and clients can dispatch on
 * the prefix. {@linkcode encodeJsonFrame} turns one into wire bytes once, and
 * the same bytes go to every recipient.
 *
 * @module
 */

/** Why someone left a room or went offline. */
export type LeaveReason =
  | "left"
  | "quit"
  | "timeout"
  | "disconnect"
  | "slow_consumer"
  | "flood"
  | "shutdown"
  | "kicked"
  | "banned"
  | "killed";
/** Why the server ends a connection with `bye`. */
export type ByeReason = "quit" | "shutdown" | "timeout" | "slow_consumer" | "flood" | "killed";
/** A user's presence. */
export type PresenceStatus = "online" | "away" | "offline";

/** Stable error codes; users and scripts can search for these. */
export type ErrorCode =
  | "bad_frame"
  | "invalid"
  | "frame_too_large"
  | "not_registered"
  | "already_registered"
  | "nick_taken"
  | "nick_invalid"
  | "unauthorized"
  | "not_in_room"
  | "no_such_room"
  | "no_such_user"
  | "text_too_long"
  | "rate_limited"
  | "server_full"
  | "too_many_rooms"
  | "unknown_command"
  | "account_exists"
  | "weak_password"
  | "registration_closed"
  | "nick_reserved"
  | "not_logged_in"
  | "not_op"
  | "banned"
  | "invite_only"
  | "bad_key"
  | "unavailable"
  | "tls_required";

/** A message as broadcast and as kept in room history. */
export interface MsgFrame {
  type: "msg";
  room: string;
  from: string;
  text: string;
  seq: number;
  ts: number;
  id?: string;
}

/** Every frame the server sends. */
export type ServerFrame =
  | {
    type: "welcome";
    nick: string;
    session: string;
    server: { name: string; version: string };
    heartbeat: { interval_ms: number; timeout_ms: number };
    limits: { max_frame: number; max_text: number; rate_per_s: number; burst: number };
    /** The account the session is logged in to. */
    account?: string;
    id?: string;
  }
  | {
    type: "room";
    room: string;
    seq: number;
    /** This incarnation of the room: it changes when the server forgot the room (a restart) and seqs began again. */
    epoch: string;
    /** At most `snapshot_members` nicks, the joiner first; `who` pages through all of them. */
    members: string[];
    /** How many members the room has, however many `members` lists. */
    member_count: number;
    history: MsgFrame[];
    /** The room's topic ("" when none). */
    topic?: string;
    /** Account names of the room's account operators. */
    ops?: string[];
    modes?: ModesView;
    /** Present (true) when more kept history follows the snapshot's: fetch it with `history` `after`. */
    more?: boolean;
    id?: string;
  }
  | {
    type: "history";
    room: string;
    epoch: string;
    /** The room's latest seq when the page was cut. */
    seq: number;
    msgs: MsgFrame[];
    /** More kept messages follow in the paging direction. */
    more: boolean;
    id?: string;
  }
  | { type: "join"; room: string; nick: string }
  | { type: "leave"; room: string; nick: string; reason: LeaveReason; by?: string; note?: string; id?: string }
  | { type: "nick"; old: string; new: string; id?: string }
  | { type: "left"; room: string; id?: string }
  | MsgFrame
  | { type: "dm"; from: string; to: string; text: string; ts: number; id?: string }
  | { type: "who"; room: string; users: WhoEntry[]; member_count: number; next?: string; id?: string }
  | CrowdFrame
  | { type: "rooms"; rooms: { name: string; members: number; seq: number }[]; id?: string }
  | { type: "presence"; nick: string; status: PresenceStatus; note?: string; reason?: LeaveReason; id?: string }
  | { type: "ping"; t: number | string | undefined }
  | { type: "pong"; t: number | string | undefined; id?: string }
  | ErrorFrame
  | { type: "bye"; reason: ByeReason; id?: string }
  | ModerationFrame;

/** A room's modes as clients see them: `key` says whether one is set, never what it is. */
export interface ModesView {
  invite_only: boolean;
  key: boolean;
  topic_lock: boolean;
}

/** Frames about accounts and moderation. */
export type ModerationFrame =
  | { type: "account"; account: string; change: "registered" | "password" | "dropped"; id?: string }
  | { type: "topic"; room: string; topic: string; by: string; ts: number; id?: string }
  | { type: "mode"; room: string; by: string; modes: ModesView; id?: string }
  | { type: "role"; room: string; nick: string; account?: string; op: boolean; by: string; id?: string }
  | { type: "ban"; room: string; mask: string; by: string; removed?: true; id?: string }
  | { type: "bans"; room: string; bans: { mask: string; by: string; ts: number; reason: string }[]; id?: string }
  | { type: "invite"; room: string; from: string; id?: string };

/** A crowded room's arrivals and departures since its last summary (PROTOCOL section 15). */
export interface CrowdFrame {
  type: "crowd";
  room: string;
  joined: number;
  left: number;
  member_count: number;
}

/** One line of a `who` answer. */
export interface WhoEntry {
  nick: string;
  status: "online" | "away";
  /** When the user's status last changed (ms since epoch). */
  since: number;
  note?: string;
  /** The account the user is logged in to. */
  account?: string;
  /** True for the room's operators. */
  op?: boolean;
}

/** An error answer. */
export interface ErrorFrame {
  type: "error";
  code: ErrorCode;
  message: string;
  id?: string;
  field?: string;
  retry_after_ms?: number;
  /** Set by the server on every error it sends; the same id is in its log line. */
  trace?: string;
}

/** Builds an `error` frame; optional parts are left out rather than set to undefined. */
export function errorFrame(
  code: ErrorCode,
  message: string,
  extra: { id?: string; field?: string; retry_after_ms?: number } = {},
): ErrorFrame {
  const frame: ErrorFrame = { type: "error", code, message };
  if (extra.id !== undefined) frame.id = extra.id;
  if (extra.field !== undefined) frame.field = extra.field;
  if (extra.retry_after_ms !== undefined) frame.retry_after_ms = extra.retry_after_ms;
  return frame;
}

/** Returns `frame` answered to request `id`: the same object when there is no id, else a copy with `id` last. */
export function withId<F extends ServerFrame>(frame: F, id: string | undefined): F {
  if (id === undefined) return frame;
  const copy = { ...frame, id };
  if (frame.type === "msg" && !("id" in frame)) {
    lastCopy = copy;
    lastCopyOf = frame;
  }
  return copy;
}

/*
 * A sender's acknowledgement of a `msg` is the broadcast frame with its id
 * added, made by withId and encoded just after the broadcast encoded the
 * frame itself. One slot each remembers the last msg copy withId made and the
 * last msg encoded, so that the acknowledgement's bytes are the broadcast's
 * with `,"id":...}` spliced in: no second JSON.stringify of the whole frame
 * per message (issue 15). Frames are never mutated once made, so the match
 * by identity is enough.
 */
let lastCopy: ServerFrame | null = null;
let lastCopyOf: ServerFrame | null = null;
let lastEncoded: ServerFrame | null = null;
let lastBytes: Uint8Array | null = null;

const encoder = new TextEncoder();

/** Encodes a frame as one compact JSON line (with LF). */
export function encodeJsonFrame(frame: ServerFrame): Uint8Array {
  if (frame === lastCopy && lastCopyOf === lastEncoded && lastBytes !== null) {
    return withIdBytes(lastBytes, (frame as { id: string }).id);
  }
  const json = JSON.stringify(frame);
  // Encoded into a scratch buffer and copied out once: `json + "\n"` made a
  // second string, flattened again by the encoder, per frame (issue 15).
  const bytes = json.length * 3 + 1 > scratch.length ? encoder.encode(json + "\n") : encodeLine(json);
  if (frame.type === "msg") {
    lastEncoded = frame;
    lastBytes = bytes;
  }
  return bytes;
}

function encodeLine(json: string): Uint8Array {
  const { written } = encoder.encodeInto(json, scratch);
  scratch[written] = 0x0a;
  return scratch.slice(0, written + 1);
}

/** `line` (an encoded object and LF) with `"id":id` added as its last key. */
function withIdBytes(line: Uint8Array, id: string): Uint8Array {
  const tail = `,"id":${JSON.stringify(id)}}\n`;
  // Encoded into the scratch buffer, not with encode(): an op and a buffer per frame on Deno.
  const { written } = encoder.encodeInto(tail, scratch);
  const out = new Uint8Array(line.length - 2 + written);
  out.set(line);
  out.set(scratch.subarray(0, written), line.length - 2);
  return out;
}

/** Big enough for any frame under 5,461 UTF-16 units (3 bytes each at most); larger ones take the plain path. */
const scratch = new Uint8Array(16 * 1024);
