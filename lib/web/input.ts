/**
 * What the compose box means: a message to the conversation on screen, or a
 * command. The same commands as the text dialect, so people need learn one
 * set: `/me`, `/join`, `/leave`, `/msg`, `/away`, `/back`, `/nick`, `/help`.
 *
 * @module
 */

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
  | { kind: "error"; message: string };

/** The help text, one line per command. */
export const HELP: readonly string[] = [
  "/me ACTION: an action in this conversation",
  "/join ROOM: join (or create) a room",
  "/leave [ROOM]: leave this room or ROOM",
  "/msg NICK TEXT: a direct message",
  "/away [NOTE], /back: presence",
  "/nick NAME: change nick",
];

/** Parses one line typed by the user (already known not to be blank). */
export function parseInput(line: string): Action {
  if (!line.startsWith("/") || line.startsWith("/me ")) return { kind: "say", text: line };
  const space = line.indexOf(" ");
  const command = (space < 0 ? line : line.slice(0, space)).toLowerCase();
  const rest = space < 0 ? "" : line.slice(space + 1).trim();
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
