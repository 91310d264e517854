/**
 * Text-dialect lines for account and moderation frames, and the operator
 * mark (`@`) used in member lists. Used by `text_render.ts` for the server's
 * text dialect and, through it, by the terminal client.
 *
 * @module
 */
import type { LeaveReason, ModerationFrame, ModesView } from "./server_frames.ts";

/** Text with controls made inert (a shared helper of the text renderer). */
type Printable = (text: string) => string;

/** `+i +k -t` for a room's modes. */
export function modeLetters(modes: ModesView): string {
  return `${modes.invite_only ? "+" : "-"}i ${modes.key ? "+" : "-"}k ${modes.topic_lock ? "+" : "-"}t`;
}

/** A member's name as shown in lists: `@` before operators. */
export function markedNick(nick: string, op: boolean | undefined): string {
  return op ? `@${nick}` : nick;
}

/** The line for a `leave` caused by an operator (kicked or banned), or null for other reasons. */
export function renderRemoval(
  frame: { room: string; nick: string; reason: LeaveReason; by?: string; note?: string },
  self: string | null,
  printable: Printable,
): string | null {
  if (frame.reason !== "kicked" && frame.reason !== "banned") return null;
  const who = frame.nick === self ? "You were" : `${frame.nick} was`;
  const note = frame.note ? ` (${printable(frame.note)})` : "";
  return `* ${who} ${frame.reason} from #${frame.room} by ${frame.by ?? "an operator"}${note}`;
}

/** One line for an account or moderation frame. */
export function renderModerationFrame(frame: ModerationFrame, self: string | null, printable: Printable): string {
  switch (frame.type) {
    case "account":
      if (frame.change === "registered") return `* Account ${frame.account} registered; you are logged in`;
      if (frame.change === "password") return `* Password of ${frame.account} changed`;
      return `* Account ${frame.account} dropped; you stay on as a guest`;
    case "topic":
      return frame.topic === ""
        ? `* ${frame.by} cleared the topic of #${frame.room}`
        : `* ${frame.by} set the topic of #${frame.room}: ${printable(frame.topic)}`;
    case "mode":
      return `* ${frame.by} set the modes of #${frame.room}: ${modeLetters(frame.modes)}`;
    case "role":
      return frame.op
        ? `* ${frame.by} made ${frame.nick} an operator of #${frame.room}`
        : `* ${frame.by} took operator from ${frame.nick} in #${frame.room}`;
    case "ban":
      return frame.removed
        ? `* ${frame.by} lifted the ban ${frame.mask} in #${frame.room}`
        : `* ${frame.by} banned ${frame.mask} from #${frame.room}`;
    case "bans":
      return frame.bans.length === 0
        ? `* No bans in #${frame.room}`
        : `* Bans in #${frame.room}: ` +
          frame.bans.map((b) => `${b.mask} (by ${b.by}${b.reason ? `: ${printable(b.reason)}` : ""})`).join(", ");
    case "invite":
      return frame.from === self
        ? `* Invitation to #${frame.room} sent`
        : `* ${frame.from} invites you to #${frame.room} (type /join ${frame.room})`;
  }
}
