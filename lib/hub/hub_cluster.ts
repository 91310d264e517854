/**
 * What the hub asks of a cluster (several nodes sharing one store), when it
 * runs in one. Without it (`hub.cluster` undefined) the hub is a single node
 * and none of this is called. Every method that needs the shared store
 * answers a promise; a rejection becomes `error` `unavailable`.
 *
 * @module
 */
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";
import type { StoredRoom } from "../store/types.ts";

/** A member as every node sees it (`who`, the `room` snapshot). */
export interface ClusterMember {
  nick: string;
  status: "online" | "away";
  since: number;
  note?: string;
}

/** A room in the `rooms` listing. */
export interface ClusterRoom {
  name: string;
  members: number;
  seq: number;
}

/** The hub's view of the cluster. */
export interface HubCluster {
  /** Starts following a room (subscribing before reading) and gives its seq and epoch. */
  openRoom(name: string): Promise<StoredRoom>;
  /** This node has no member left in the room: stop following it. */
  closeRoom(name: string): void;
  /** The store has appended a message: deliver it now if it is the room's next one. */
  appended(msg: MsgFrame, origin: string | undefined): void;
  /** Claims `key` for a session of this node; false when another session holds it. */
  claimNick(key: string, nick: string, sessionId: string): Promise<boolean>;
  /** Gives back a nick this node's session held. */
  releaseNick(key: string, sessionId: string): void;
  /**
   * A member of this node changed (joined, left, renamed, away): records it in
   * the room's shared member list (`member` null removes `key`) and tells the
   * other nodes `frame`. `dedupe` marks copies of one event sent to several
   * rooms (`rooms`, all of them): a node tells its members of any of them
   * once. Resolves, never rejects, once done: false when Redis failed.
   */
  memberEvent(
    room: string,
    key: string,
    member: ClusterMember | null,
    frame: ServerFrame,
    options?: { dedupe?: string; rooms?: string[]; oldKey?: string; countDelta?: number },
  ): Promise<boolean>;
  /** Members of a room on every node. */
  members(room: string): Promise<ClusterMember[]>;
  /** Rooms with members on any node. */
  rooms(): Promise<ClusterRoom[]>;
  /** Sends a DM to a user on another node; false when nobody holds `key`. */
  sendDm(key: string, frame: ServerFrame): Promise<boolean>;
}
