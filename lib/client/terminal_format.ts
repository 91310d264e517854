/**
 * How the interactive client shows things: a timestamp, the same readable
 * lines as the server's text dialect, and a stable colour per nick when
 * colour is on.
 *
 * @module
 */
import { nickKey } from "../protocol/names.ts";
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";
import { printable, renderTextFrame } from "../protocol/text_render.ts";

/** Display options. */
export interface FormatOptions {
  /** ANSI colours on. */
  color: boolean;
  /** The user's own nick (for direct-message arrows and hiding its own join). */
  self: string;
}

const PALETTE = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** The ANSI colour code a nick always gets. */
export function nickColor(nick: string): number {
  let hash = 0;
  for (const ch of nickKey(nick)) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

function paint(text: string, code: number, on: boolean): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** `HH:MM` in local time. */
export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** One message line: `12:04 [lobby] <ada> hello` (or `* ada waves` for /me). */
export function formatMsg(msg: MsgFrame, options: FormatOptions): string {
  const nick = paint(msg.from, nickColor(msg.from), options.color);
  // Another user's text reaches a terminal: controls, escapes and bidi controls are shown as U+FFFD.
  const text = printable(msg.text);
  const body = text.startsWith("/me ") ? `* ${nick} ${text.slice(4)}` : `<${nick}> ${text}`;
  return `${paint(clock(msg.ts), 2, options.color)} [${msg.room}] ${body}`;
}

/** Any server frame as a line for the terminal, or null for frames not shown. */
export function formatFrame(frame: ServerFrame, options: FormatOptions, now = Date.now()): string | null {
  if (frame.type === "msg") return formatMsg(frame, options);
  // Snapshots are announced by the client itself (their history arrives as messages).
  if (frame.type === "room" || frame.type === "welcome" || frame.type === "bye") return null;
  const line = renderTextFrame(frame, options.self);
  if (line === null) return null;
  const ts = paint(clock("ts" in frame && typeof frame.ts === "number" ? frame.ts : now), 2, options.color);
  if (line.startsWith("!")) return `${ts} ${paint(line, 31, options.color)}`;
  return `${ts} ${line.startsWith("*") ? paint(line, 2, options.color) : line}`;
}

/** A status line from the client itself (connection state, help). */
export function formatStatus(text: string, options: FormatOptions, now = Date.now()): string {
  return `${paint(clock(now), 2, options.color)} ${paint(`* ${text}`, 33, options.color)}`;
}
