/**
 * A room: its members, its sequence counter and its recent history.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import { MemberIndex } from "./member_index.ts";
import { RoomHistory } from "./room_history.ts";
import type { Session } from "./session.ts";
import { RoomModeration } from "./room_modes.ts";

/** One chat room. */
export class Room<P = unknown> {
  /** Members in join order. */
  readonly members = new Set<Session<P>>();
  /** The same members in nick-key order, for `who` paging. */
  readonly index = new MemberIndex<Session<P>>();
  /** Seq of the latest message; 0 before the first. */
  seq = 0;
  readonly history: RoomHistory;
  /** Topic, modes, operators and bans (replaced by the hub with what the store kept). */
  moderation: RoomModeration<P> = new RoomModeration<P>();

  constructor(
    readonly name: string,
    historyCapacity: number,
    /** Names this incarnation: a room forgotten and made again (or a restarted server) gets a new one. */
    readonly epoch: string,
  ) {
    this.history = new RoomHistory(historyCapacity);
  }

  /** Adds a member (its nick must be set); false if it already was one. */
  addMember(session: Session<P>): boolean {
    if (this.members.has(session)) return false;
    this.members.add(session);
    this.index.add(session);
    return true;
  }

  /** Removes a member; false if it was not one. */
  removeMember(session: Session<P>): boolean {
    if (!this.members.delete(session)) return false;
    this.index.remove(session);
    return true;
  }

  /** Assigns the next seq to a message and keeps it in history. */
  append(from: string, text: string, ts: number): MsgFrame {
    const msg: MsgFrame = { type: "msg", room: this.name, from, text, seq: ++this.seq, ts };
    this.history.push(msg);
    return msg;
  }
}
