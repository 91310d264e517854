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
  /** The nick the last sign-in line asked for (set by the parser, to prompt for its password). */
  pendingNick?: string | null;
  /** Set when the server asked for this account's password: the next line is that password. */
  passwordFor?: string | null;
  /** Topics of joined rooms, for `/topic` without text (kept by the connection). */
  topics?: Map<string, string>;
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
  | { kind: "show_topic"; room: string }
  | { kind: "error"; code: ErrorCode; message: string };

/** Help shown by `/help`, one line each. */
export const TEXT_HELP = [
  "/join ROOM          join (or create) a room and make it current",
  "/leave [ROOM]       leave a room (default: the current one)",
  "/msg NICK TEXT      send a direct message",
  "/who [ROOM] [AFTER] list a room's members (default: the current one), a page at a time after AFTER",
  "/rooms              list rooms",
  "/nick NAME [PASSWORD] change your nick (an account's nick needs its password)",
  "/register PASSWORD  make your nick an account; /passwd OLD NEW; /drop PASSWORD",
  "/topic [TEXT]       show or set the current room's topic",
  "/invite NICK [ROOM] invite someone (to an invite-only room)",
  "operators: /op NICK, /deop NICK, /kick NICK [REASON], /ban NICK [REASON], /unban MASK, /bans,",
  "           /mode ROOM [+i|-i|+k KEY|-k|+t|-t], /join ROOM [KEY], /kill NICK [REASON] (server operators)",
  "/history [N]        show the last N (default 20) kept messages here; again for earlier ones",
  "/away [NOTE]        mark yourself away; /back to return",
  "/me ACTION          send an action to the current room",
  "/quit [REASON]      leave the server",
  "anything else is a message to the current room; start it with // to send a leading /",
];

/** Parses one line (already decoded and trimmed of CR/LF). */
export function parseTextLine(line: string, state: TextState): TextInput {
  const trimmed = line.trim();
  if (!state.registered) return signInLine(line, trimmed, state);
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
    case "/nick": {
      const [nick, password] = words(rest, 2);
      if (!nick) return usage("/nick NAME [PASSWORD]");
      return frame(password ? { type: "nick", nick, password } : { type: "nick", nick });
    }
    case "/join": {
      const [room, key] = words(rest, 2);
      if (!room) return usage("/join ROOM [KEY]");
      return frame(key ? { type: "join", room, key } : { type: "join", room });
    }
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
      return parseModerationCommand(command, rest, state) ??
        error("unknown_command", `${command} is not a command; type /help`);
  }
}

/**
 * A line before sign-in: a nick (`NAME`, `/nick NAME`, `/nick NAME PASSWORD`),
 * or, right after the server asked for one, an account's password (taken
 * whole, spaces included).
 */
function signInLine(line: string, trimmed: string, state: TextState): TextInput {
  if (state.passwordFor) {
    const nick = state.passwordFor;
    state.passwordFor = null;
    return frame({ type: "hello", nick, password: line });
  }
  if (trimmed.startsWith("/quit")) return frame({ type: "quit" });
  const [nick, password] = trimmed.startsWith("/nick ") ? words(trimmed.slice(6), 2) : [trimmed];
  if (nick.startsWith("/")) return error("not_registered", "choose a nick first (just type it)");
  state.pendingNick = nick;
  return frame(password ? { type: "hello", nick, password } : { type: "hello", nick });
}

/**
 * Splits `rest` into at most `count` words; the last takes the remainder as
 * typed (a reason or a topic keeps its spaces).
 */
export function words(rest: string, count: number): string[] {
  const out: string[] = [];
  let tail = rest.trim();
  while (tail !== "" && out.length < count - 1) {
    const space = tail.search(/\s/);
    if (space < 0) break;
    out.push(tail.slice(0, space));
    tail = tail.slice(space + 1).trim();
  }
  if (tail !== "") out.push(tail);
  return out;
}

/** Account and moderation commands; null for a command that is none of them. */
function parseModerationCommand(command: string, rest: string, state: TextState): TextInput | null {
  const room = state.currentRoom;
  const inRoom = (make: (room: string) => TextInput, form: string): TextInput =>
    room === null ? error("not_in_room", `join a room first: ${form} acts on the current room`) : make(room);
  switch (command) {
    case "/register":
      return rest ? frame({ type: "register", password: rest }) : usage("/register PASSWORD");
    case "/passwd": {
      const [password, newPassword] = words(rest, 2);
      if (!newPassword) return usage("/passwd OLD NEW");
      return frame({ type: "passwd", password, new_password: newPassword });
    }
    case "/drop":
      return rest ? frame({ type: "drop", password: rest }) : usage("/drop PASSWORD");
    case "/topic":
      return inRoom((r) => rest ? frame({ type: "topic", room: r, topic: rest }) : { kind: "show_topic", room: r }, "/topic");
    case "/mode":
      return parseMode(rest);
    case "/op":
    case "/deop":
      return rest
        ? inRoom((r) => frame({ type: command.slice(1), room: r, nick: rest }), command)
        : usage(`${command} NICK`);
    case "/kick":
    case "/ban": {
      const [nick, reason] = words(rest, 2);
      if (!nick) return usage(`${command} NICK [REASON]`);
      return inRoom((r) => frame({ type: command.slice(1), room: r, nick, ...(reason ? { reason } : {}) }), command);
    }
    case "/unban":
      return rest ? inRoom((r) => frame({ type: "unban", room: r, mask: rest }), "/unban") : usage("/unban MASK");
    case "/bans":
      return inRoom((r) => frame({ type: "bans", room: r }), "/bans");
    case "/invite": {
      const [nick, target] = words(rest, 2);
      if (!nick) return usage("/invite NICK [ROOM]");
      return target ? frame({ type: "invite", room: target, nick }) : inRoom((r) => frame({ type: "invite", room: r, nick }), "/invite");
    }
    case "/kill": {
      const [nick, reason] = words(rest, 2);
      if (!nick) return usage("/kill NICK [REASON]");
      return frame({ type: "kill", nick, ...(reason ? { reason } : {}) });
    }
    default:
      return null;
  }
}

/** `/mode ROOM [+i|-i|+k KEY|-k|+t|-t] ...`: at least one change (the schema says so otherwise). */
function parseMode(rest: string): TextInput {
  const parts = rest.split(/\s+/).filter((p) => p !== "");
  const form = "/mode ROOM [+i|-i|+k KEY|-k|+t|-t]";
  if (parts.length === 0) return usage(form);
  const out: Record<string, unknown> = { type: "mode", room: parts[0] };
  for (let i = 1; i < parts.length; i++) {
    switch (parts[i]) {
      case "+i":
      case "-i":
        out.invite_only = parts[i] === "+i";
        break;
      case "+t":
      case "-t":
        out.topic_lock = parts[i] === "+t";
        break;
      case "-k":
        out.key = "";
        break;
      case "+k":
        if (parts[i + 1] === undefined) return usage(form);
        out.key = parts[++i];
        break;
      default:
        return usage(form);
    }
  }
  return frame(out);
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
