/**
 * Message ids and message references for IRC (`msgid` tags and the
 * CHATHISTORY `msgid=` / `timestamp=` references, IRCv3 message-ids and
 * draft/chathistory).
 *
 * A msgid is `<room>-<seq>-<ts base 36>`: the room and its seq name the
 * message exactly, so a `msgid=` reference becomes the seq a `history` frame
 * pages from without any lookup; the send time makes it unique across a
 * room's incarnations (a room forgotten and made again starts at seq 1
 * again). The seq is used, not the room's epoch: seqs and send times survive
 * a restart on a data directory while epochs do not, so a msgid a client saw
 * live is the one it gets again from history. Room names have no spaces,
 * `;` or `=`, so a msgid needs no tag escaping; they may have `-`, so a
 * msgid is read from the right.
 *
 * @module
 */
import type { MsgFrame } from "../../protocol/server_frames.ts";

/** The msgid of a room message. */
export function msgidOf(msg: Pick<MsgFrame, "room" | "seq" | "ts">): string {
  return `${msg.room}-${msg.seq}-${msg.ts.toString(36)}`;
}

/** What a msgid names: a room, a seq in it, and the send time. */
export interface ParsedMsgid {
  room: string;
  seq: number;
  ts: number;
}

/** Reads a msgid made by {@linkcode msgidOf}; null if this server did not make it. */
export function parseMsgid(msgid: string): ParsedMsgid | null {
  const match = /^(.+)-([1-9][0-9]{0,15})-([0-9a-z]{1,11})$/.exec(msgid);
  if (match === null) return null;
  const seq = Number(match[2]);
  const ts = parseInt(match[3], 36);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) return null;
  return { room: match[1], seq, ts };
}

/** A CHATHISTORY message reference: `*`, `msgid=...` or `timestamp=...`. */
export type MsgRef =
  | { kind: "star" }
  | { kind: "msgid"; msgid: ParsedMsgid }
  | { kind: "timestamp"; ts: number };

/** Why a reference was refused: `invalid` syntax, or a msgid this server never issued. */
export type MsgRefProblem = "invalid" | "unknown_msgid";

/** The spec's timestamp, `YYYY-MM-DDThh:mm:ss.sssZ`; other precisions and offsets are accepted too. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads a message reference. `*` only where `allowStar` (LATEST). A
 * timestamp is kept in whole milliseconds (finer digits are dropped: the
 * server stamps messages in milliseconds).
 */
export function parseMsgRef(raw: string, allowStar = false): MsgRef | MsgRefProblem {
  if (raw === "*") return allowStar ? { kind: "star" } : "invalid";
  const eq = raw.indexOf("=");
  if (eq < 0) return "invalid";
  const type = raw.slice(0, eq);
  const value = raw.slice(eq + 1);
  if (type === "msgid") {
    const msgid = parseMsgid(value);
    return msgid === null ? "unknown_msgid" : { kind: "msgid", msgid };
  }
  if (type === "timestamp") {
    if (!TIMESTAMP.test(value)) return "invalid";
    // Date.parse reads at most milliseconds; cut finer digits so it never rounds up.
    const ts = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
    return Number.isFinite(ts) ? { kind: "timestamp", ts } : "invalid";
  }
  return "invalid";
}
