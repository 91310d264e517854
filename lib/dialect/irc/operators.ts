/**
 * Who IRC shows with `@`: room operators (account or guest) and server
 * operators, as the hub's moderation rules count them (PROTOCOL section 9),
 * read without a frame for NAMES after a JOIN and for MODE.
 *
 * @module
 */
import { ServerOperators } from "../../hub/room_modes.ts";
import type { Session } from "../../hub/session.ts";
import type { IrcSession } from "./session.ts";

/** Parsed once per value of the `operators` setting. */
const serverOperators = new ServerOperators();

/** Whether `member` is a server operator (its account is named in `operators`). */
export function isServerOperator(s: IrcSession, member: Session<unknown>): boolean {
  return serverOperators.includes(member.account, s.host.settings.operators);
}

/** Whether `member` operates room `room` (a server operator operates every room). */
export function isChannelOperator(s: IrcSession, room: string, member: Session<unknown> | undefined): boolean {
  if (member === undefined) return false;
  if (isServerOperator(s, member)) return true;
  return s.host.lookup.room(room)?.moderation.isRoomOperator(member) === true;
}

/** Whether the nick `nick` operates `room`. */
export function isChannelOperatorNick(s: IrcSession, room: string, nick: string): boolean {
  return isChannelOperator(s, room, s.host.lookup.sessionByNick(nick));
}
