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

/**
 * Bumped whenever any room gains or loses a member. A fan-out run
 * (`lib/server/fanout_run.ts`) resolves a room's members once and grows only
 * while this is unchanged, so a member who joins mid-turn is never missed.
 */
let epoch = 0;

/** The current membership epoch (see above): changes on every join and leave of any room. */
export function membershipEpoch(): number {
  return epoch;
}

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
    /** Names this incarnation: a room forgotten and made again (or remade by a memory-only server after a restart) gets a new one. */
    readonly epoch: string,
    /** The latest seq when the room comes back from the store. */
    seq = 0,
  ) {
    this.history = new RoomHistory(historyCapacity);
    this.seq = seq;
  }

  /** Adds a member (its nick must be set); false if it already was one. */
  addMember(session: Session<P>): boolean {
    if (this.members.has(session)) return false;
    this.members.add(session);
    epoch++;
    this.index.add(session);
    return true;
  }

  /** Removes a member; false if it was not one. */
  removeMember(session: Session<P>): boolean {
    if (!this.members.delete(session)) return false;
    epoch++;
    this.index.remove(session);
    return true;
  }

  /** Takes a message the store has appended (its seq is the next one): it becomes the latest. */
  record(msg: MsgFrame): void {
    this.seq = msg.seq;
    this.history.push(msg);
  }
}
