/**
 * A fast path for the one frame a chat server receives most: `msg` with a
 * plain room name, a text and maybe an id. It checks exactly what the
 * valibot schema checks and builds the same object, without the schema's
 * per-field issue bookkeeping, pipes and the room regex's match array
 * (issue 15: allocations per received frame). Anything it is not sure of it
 * leaves to the schema, so errors keep their codes, messages and fields.
 *
 * @module
 */
import type { ClientFrameOf } from "./client_frames.ts";

const MAX_ROOM = 64;
const MAX_ID = 64;

/**
 * The validated `msg` frame for `record` (a parsed object whose `type` is
 * `"msg"`), or undefined when the schema must decide (unusual shape, or a
 * value it may refuse).
 */
export function fastMsg(record: Record<string, unknown>): ClientFrameOf<"msg"> | undefined {
  const { room, text } = record;
  if (typeof room !== "string" || !isPlainRoomName(room)) return undefined;
  if (typeof text !== "string" || text.length === 0 || !text.isWellFormed()) return undefined;
  const id = record.id;
  if (id === undefined) {
    // A key holding undefined (not from JSON, but from the IRC dialect) is kept by the schema: let it decide.
    if ("id" in record) return undefined;
    return { type: "msg", room, text };
  }
  if (typeof id !== "string" || id.length > MAX_ID || !id.isWellFormed()) return undefined;
  return { type: "msg", id, room, text };
}

/** A room name already canonical: 1-64 of a-z 0-9 _ - . (no leading #, which the schema strips). */
function isPlainRoomName(room: string): boolean {
  const n = room.length;
  if (n === 0 || n > MAX_ROOM) return false;
  for (let i = 0; i < n; i++) {
    const c = room.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e;
    if (!ok) return false;
  }
  return true;
}
