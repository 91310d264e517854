/**
 * The text dialect's output side: one readable line (or a few) per server
 * frame, for people on `nc` or `telnet`.
 *
 * @module
 */
import { markedNick, modeLetters, renderModerationFrame, renderRemoval } from "./moderation_render.ts";
import type { MsgFrame, ServerFrame } from "./server_frames.ts";

/** The line a text connection sees first, inviting a nick. */
export function textGreeting(serverName: string): string {
  return `* Welcome to ${serverName}. Type a nick to sign in (letters, digits, _ - . up to 32):`;
}

/**
 * C0 controls but TAB, DEL, C1 controls; bidi marks, embeddings, overrides
 * and isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069); and the
 * line and paragraph separators U+2028-U+2029.
 */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Text a user wrote, safe to print on one line: control characters become
 * U+FFFD, so nobody can fake a line of server output with a newline or steer
 * a person's terminal with escape sequences. Bidi controls become U+FFFD too,
 * so a message cannot reverse the rest of the line it is printed on (an
 * override in `<mallory> ...` could make the following text, or the next
 * field, read backwards), and so do Unicode's line and paragraph separators,
 * which some terminals and log viewers break lines at.
 */
export function printable(text: string): string {
  return text.replace(CONTROLS, "\ufffd");
}

/** `[room] <nick> text`, or `[room] * nick action` for `/me`. */
export function renderMsg(msg: MsgFrame): string {
  const text = printable(msg.text);
  if (text.startsWith("/me ")) return `[${msg.room}] * ${msg.from} ${text.slice(4)}`;
  return `[${msg.room}] <${msg.from}> ${text}`;
}

/** What a person who is not signed in yet should type after an error. */
function signInHint(code: string): string {
  switch (code) {
    case "nick_taken":
    case "nick_invalid":
      return "; type another nick:";
    case "nick_reserved":
      return "; type its password (or another nick):";
    case "unauthorized":
    case "rate_limited":
      return "; type a nick:";
    default:
      return "";
  }
}

/** A `history` page: a head line, then one line per message, oldest first. */
function renderHistory(frame: Extract<ServerFrame, { type: "history" }>): string {
  const { msgs } = frame;
  if (msgs.length === 0) return `* No earlier messages kept in #${frame.room}`;
  const head = `* #${frame.room} history, messages ${msgs[0].seq}-${msgs.at(-1)!.seq}` +
    (frame.more ? " (/history again for earlier ones):" : " (nothing earlier is kept):");
  return [head, ...msgs.map(renderMsg)].join("\n");
}

/**
 * Renders a frame for the text user `self` (null before registration); null
 * for frames people need not see (pings).
 */
export function renderTextFrame(frame: ServerFrame, self: string | null): string | null {
  switch (frame.type) {
    case "welcome":
      return `* Welcome, ${frame.nick}! You are on ${frame.server.name} ${frame.server.version}` +
        `${frame.account ? `, logged in as ${frame.account}` : ""}. Type /help for commands.`;
    case "room": {
      // A crowded room's snapshot lists only some members: say how many more there are and how to see them.
      const count = frame.member_count ?? frame.members.length;
      const others = count - frame.members.length;
      const head = `* Now in #${frame.room} with ${frame.members.join(", ")}` +
        (others > 0 ? ` and ${others} more (${count} members; /who ${frame.room} lists them)` : "") +
        (frame.history.length ? `; recent messages:` : "");
      const about = [
        ...(frame.topic ? [`* Topic of #${frame.room}: ${printable(frame.topic)}`] : []),
        ...(frame.ops?.length ? [`* Operators of #${frame.room}: ${frame.ops.join(", ")}`] : []),
        ...(frame.modes && (frame.modes.invite_only || frame.modes.key) ? [`* Modes of #${frame.room}: ${modeLetters(frame.modes)}`] : []),
      ];
      return [head, ...about, ...frame.history.map(renderMsg)].join("\n");
    }
    case "history":
      return renderHistory(frame);
    case "join":
      return frame.nick === self ? null : `* ${frame.nick} joined #${frame.room}`;
    case "leave":
      return renderRemoval(frame, self, printable) ?? `* ${frame.nick} left #${frame.room} (${frame.reason})`;
    case "left":
      return `* You left #${frame.room}`;
    case "nick":
      return `* ${frame.old} is now known as ${frame.new}`;
    case "msg":
      return renderMsg(frame);
    case "dm":
      return frame.from === self && frame.to !== self
        ? `-> ${frame.to}: ${printable(frame.text)}`
        : `<- ${frame.from}: ${printable(frame.text)}`;
    case "who": {
      const count = frame.member_count ?? frame.users.length;
      const whole = frame.next === undefined && frame.users.length === count;
      return `* #${frame.room}${whole ? "" : ` (${count} members, ${frame.users.length} shown)`}: ` +
        frame.users.map((u) => `${markedNick(u.nick, u.op)} (${u.status}${u.note ? `: ${printable(u.note)}` : ""})`).join(", ") +
        (frame.next === undefined ? "" : `; more: /who ${frame.room} ${frame.next}`);
    }
    case "crowd":
      return `* #${frame.room}: ${frame.joined} joined, ${frame.left} left; ${frame.member_count} members now`;
    case "rooms":
      return frame.rooms.length === 0
        ? "* No rooms yet; /join ROOM creates one"
        : "* Rooms: " + frame.rooms.map((r) => `#${r.name} (${r.members} here, seq ${r.seq})`).join(", ");
    case "presence":
      if (frame.status === "away") return `* ${frame.nick} is away${frame.note ? ` (${printable(frame.note)})` : ""}`;
      if (frame.status === "online") return `* ${frame.nick} is back`;
      return `* ${frame.nick} went offline (${frame.reason ?? "disconnect"})`;
    case "pong":
      return "* pong";
    case "ping":
      return null;
    case "error": {
      // A message may quote what the user typed (a nick, a name), so it is made printable too.
      return `! ${frame.code}: ${printable(frame.message)}${self === null ? signInHint(frame.code) : ""}`;
    }
    case "bye":
      return `* Bye (${frame.reason})`;
    default:
      return renderModerationFrame(frame, self, printable);
  }
}
