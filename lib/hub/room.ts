/**
 * A room: its members, its sequence counter and its recent history.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import { RoomHistory } from "./room_history.ts";
import type { Session } from "./session.ts";

/** One chat room. */
export class Room<P = unknown> {
  /** Members in join order. */
  readonly members = new Set<Session<P>>();
  /** Seq of the latest message; 0 before the first. */
  seq = 0;
  readonly history: RoomHistory;

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

  /** Takes a message the store has appended (its seq is the next one): it becomes the latest. */
  record(msg: MsgFrame): void {
    this.seq = msg.seq;
    this.history.push(msg);
  }
}
