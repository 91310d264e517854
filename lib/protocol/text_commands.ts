/**
 * The text dialect's input side: a line typed by a person on `nc` or `telnet`
 * becomes the same typed frame a JSON client would send, so the hub sees one
 * command language. A plain line is a message to the current room.
 *
 * @module
 */
import { validateClientFrame, type ClientFrame, type FrameProblem } from "./client_frames.ts";
import type { ErrorCode } from "./server_frames.ts";

/** What a text connection remembers between lines. */
export interface TextState {
  /** Whether the nick has been accepted. */
  registered: boolean;
  /** Where a plain line goes: the room joined last that is still joined. */
  currentRoom: string | null;
  /** Where the next `/history` continues: the oldest seq shown by the last one, in `historyRoom`. */
  historyBefore?: number;
  historyRoom?: string;
}

/** Messages `/history` shows when it names no count. */
export const TEXT_HISTORY_DEFAULT = 20;

/** What one typed line means. */
export type TextInput =
  | { kind: "frame"; frame: ClientFrame }
  | { kind: "help" }
  | { kind: "error"; code: ErrorCode; message: string };

/** Help shown by `/help`, one line each. */
export const TEXT_HELP = [
  "/join ROOM          join (or create) a room and make it current",
  "/leave [ROOM]       leave a room (default: the current one)",
  "/msg NICK TEXT      send a direct message",
  "/who [ROOM] [AFTER] list a room's members (default: the current one), a page at a time after AFTER",
  "/rooms              list rooms",
  "/nick NAME          change your nick",
  "/history [N]        show the last N (default 20) kept messages here; again for earlier ones",
  "/away [NOTE]        mark yourself away; /back to return",
  "/me ACTION          send an action to the current room",
  "/quit [REASON]      leave the server",
  "anything else is a message to the current room; start it with // to send a leading /",
];

/** Parses one line (already decoded and trimmed of CR/LF). */
export function parseTextLine(line: string, state: TextState): TextInput {
  const trimmed = line.trim();
  if (!state.registered) {
    if (trimmed.startsWith("/quit")) return frame({ type: "quit" });
    const nick = trimmed.startsWith("/nick ") ? trimmed.slice(6).trim() : trimmed;
    if (nick.startsWith("/")) return error("not_registered", "choose a nick first (just type it)");
    return frame({ type: "hello", nick });
  }
  // Only /history right after /history pages further back; anything else starts over from the newest.
  if (!/^\/history(\s|$)/i.test(trimmed)) state.historyBefore = undefined;
  if (!trimmed.startsWith("/") || trimmed.startsWith("//")) {
    return toCurrentRoom(state, trimmed.startsWith("//") ? trimmed.slice(1) : line);
  }
  const space = trimmed.indexOf(" ");
  const command = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space < 0 ? "" : trimmed.slice(space + 1).trim();
  if (command === "/history") return historyCommand(rest, state);
  switch (command) {
    case "/help":
      return { kind: "help" };
    case "/nick":
      return rest ? frame({ type: "nick", nick: rest }) : usage("/nick NAME");
    case "/join":
      return rest ? frame({ type: "join", room: rest }) : usage("/join ROOM");
    case "/leave":
    case "/part":
      return roomCommand("leave", rest, state);
    case "/who": {
      // `/who ROOM AFTER` pages through a big room: the answer ends with the command for the next page.
      const [room, after, extra] = rest.split(/\s+/).filter((word) => word !== "");
      if (extra !== undefined) return usage("/who [ROOM] [AFTER]");
      if (after !== undefined) return frame({ type: "who", room, after });
      return roomCommand("who", room ?? "", state);
    }
    case "/rooms":
    case "/list":
      return frame({ type: "rooms" });
    case "/msg": {
      const split = rest.indexOf(" ");
      if (split < 0) return usage("/msg NICK TEXT");
      return frame({ type: "dm", to: rest.slice(0, split), text: rest.slice(split + 1).trim() });
    }
    case "/away":
      return frame(rest ? { type: "status", status: "away", note: rest } : { type: "status", status: "away" });
    case "/back":
      return frame({ type: "status", status: "online" });
    case "/me":
      return rest ? toCurrentRoom(state, `/me ${rest}`) : usage("/me ACTION");
    case "/quit":
      return frame(rest ? { type: "quit", reason: rest } : { type: "quit" });
    default:
      return error("unknown_command", `${command} is not a command; type /help`);
  }
}

/**
 * `/history [N]`: the newest N kept messages of the current room, or, right
 * after another `/history` in the same room, the N before the oldest it showed.
 */
function historyCommand(rest: string, state: TextState): TextInput {
  if (state.currentRoom === null) return error("not_in_room", "join a room first: /join ROOM");
  if (rest !== "" && !/^\d{1,3}$/.test(rest)) return usage("/history [N] (N from 1 to 100)");
  const limit = rest === "" ? TEXT_HISTORY_DEFAULT : Number(rest);
  const before = state.historyRoom === state.currentRoom ? state.historyBefore : undefined;
  return frame({ type: "history", room: state.currentRoom, limit, ...(before !== undefined ? { before } : {}) });
}

/**
 * Remembers where a `history` page shown to a text user ended, so the next
 * `/history` continues before it; a page with nothing earlier starts over.
 */
export function noteHistoryPage(state: TextState, page: { room: string; msgs: { seq: number }[]; more: boolean }): void {
  const oldest = page.msgs[0];
  state.historyRoom = page.room;
  state.historyBefore = page.more && oldest !== undefined ? oldest.seq : undefined;
}

function toCurrentRoom(state: TextState, text: string): TextInput {
  if (state.currentRoom === null) return error("not_in_room", "join a room first: /join ROOM");
  return frame({ type: "msg", room: state.currentRoom, text });
}

function roomCommand(type: "leave" | "who", rest: string, state: TextState): TextInput {
  const room = rest || state.currentRoom;
  if (!room) return usage(`/${type} ROOM`);
  return frame({ type, room });
}

/** Runs the typed command through the same schema as JSON frames, so both dialects obey one set of rules. */
function frame(raw: Record<string, unknown>): TextInput {
  const result = validateClientFrame(raw);
  if (result.ok) return { kind: "frame", frame: result.frame };
  return { kind: "error", code: result.problem.code, message: textProblem(result.problem) };
}

function textProblem(problem: FrameProblem): string {
  return problem.field ? `${problem.field}: ${problem.message}` : problem.message;
}

function usage(form: string): TextInput {
  return error("invalid", `usage: ${form}`);
}

function error(code: ErrorCode, message: string): TextInput {
  return { kind: "error", code, message };
}
