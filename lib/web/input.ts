/**
 * What the compose box means: a message to the conversation on screen, or a
 * command. The same commands as the text dialect, so people need learn one
 * set: `/me`, `/join`, `/leave`, `/msg`, `/away`, `/back`, `/nick`, `/help`;
 * account and operator commands (`/register`, `/topic`, `/kick`, `/ban`,
 * `/mode`, `/op`, `/invite`, ...) go through the text dialect's own parser,
 * so both speak one language and obey one schema.
 *
 * @module
 */
import type { ClientFrame } from "../protocol/client_frames.ts";
import { parseTextLine } from "../protocol/text_commands.ts";

/** One thing the user asked for. */
export type Action =
  | { kind: "say"; text: string }
  | { kind: "join"; room: string }
  | { kind: "leave"; room: string | null }
  | { kind: "dm"; to: string; text: string }
  | { kind: "away"; note?: string }
  | { kind: "back" }
  | { kind: "nick"; nick: string }
  | { kind: "help" }
  /** A frame to send as is (account and operator commands). */
  | { kind: "frame"; frame: ClientFrame }
  | { kind: "show_topic"; room: string }
  | { kind: "error"; message: string };

/** The help text, one line per command. */
export const HELP: readonly string[] = [
  "/me ACTION: an action in this conversation",
  "/join ROOM: join (or create) a room",
  "/leave [ROOM]: leave this room or ROOM",
  "/msg NICK TEXT: a direct message",
  "/away [NOTE], /back: presence",
  "/nick NAME [PASSWORD]: change nick (an account's nick needs its password)",
  "/register PASSWORD: make your nick an account; /passwd OLD NEW; /drop PASSWORD",
  "/topic [TEXT]: show or set this room's topic; /invite NICK [ROOM]",
  "operators: /kick NICK [REASON], /ban NICK [REASON], /unban MASK, /bans, /op NICK, /deop NICK",
  "operators: /mode ROOM [+i|-i|+k KEY|-k|+t|-t], /kill NICK [REASON]",
];

/** Commands the text dialect's parser reads for the page. */
const TEXT_COMMANDS = new Set([
  "/register", "/passwd", "/drop", "/topic", "/mode", "/op", "/deop", "/kick", "/ban", "/unban", "/bans", "/invite", "/kill",
]);

/** Parses one line typed by the user (already known not to be blank); `room` is the room on screen, if any. */
export function parseInput(line: string, room: string | null = null): Action {
  if (!line.startsWith("/") || line.startsWith("/me ")) return { kind: "say", text: line };
  const space = line.indexOf(" ");
  const command = (space < 0 ? line : line.slice(0, space)).toLowerCase();
  const rest = space < 0 ? "" : line.slice(space + 1).trim();
  // A key to join with, or a password to take an account's nick, is the text dialect's form.
  const twoWords = /\S\s+\S/.test(rest);
  if (TEXT_COMMANDS.has(command) || ((command === "/join" || command === "/nick") && twoWords)) {
    const parsed = parseTextLine(line, { registered: true, currentRoom: room });
    if (parsed.kind === "frame") return { kind: "frame", frame: parsed.frame };
    if (parsed.kind === "show_topic") return parsed;
    if (parsed.kind === "error") return { kind: "error", message: parsed.message };
    return { kind: "help" };
  }
  switch (command) {
    case "/join":
      return rest ? { kind: "join", room: rest.replace(/^#/, "") } : { kind: "error", message: "usage: /join ROOM" };
    case "/leave":
    case "/part":
      return { kind: "leave", room: rest ? rest.replace(/^#/, "") : null };
    case "/msg": {
      const split = rest.indexOf(" ");
      if (split < 0) return { kind: "error", message: "usage: /msg NICK TEXT" };
      return { kind: "dm", to: rest.slice(0, split), text: rest.slice(split + 1).trim() };
    }
    case "/away":
      return rest ? { kind: "away", note: rest } : { kind: "away" };
    case "/back":
      return { kind: "back" };
    case "/nick":
      return rest ? { kind: "nick", nick: rest } : { kind: "error", message: "usage: /nick NAME" };
    case "/help":
      return { kind: "help" };
    default:
      return { kind: "error", message: `unknown command ${command}; /help lists them` };
  }
}
