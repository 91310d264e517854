/**
 * What the hub asks of a cluster (several nodes sharing one store), when it
 * runs in one. Without it (`hub.cluster` undefined) the hub is a single node
 * and none of this is called. Every method that needs the shared store
 * answers a promise; a rejection becomes `error` `unavailable`.
 *
 * @module
 */
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";
import type { BanRecord, RoomModes, TopicRecord } from "../store/room_state_store.ts";
import type { StoredRoom } from "../store/types.ts";

/** A member as every node sees it (`who`, the `room` snapshot). */
export interface ClusterMember {
  nick: string;
  status: "online" | "away";
  since: number;
  note?: string;
  /** The member's account name, when logged in (for `who` and remote moderation). */
  account?: string;
  /** A guest operator of the room (on its node), as read from the store; never written in a member record. */
  op?: true;
}

/**
 * A moderation action on a user of another node, carried on that node's
 * channel (like a DM) and done there: `remove` takes the user out of a room
 * telling `frame` (a `leave` kicked or banned), `kill` ends its session,
 * `invite` hands it an invite, `ban` bans it from a room it is not in (only
 * its node knows its login, so the mask is made there; see
 * remote_ban.ts), `op` makes a guest of that node a room operator there.
 */
export type RemoteAction =
  | { a: "remove"; room: string; frame: ServerFrame }
  | { a: "kill" }
  | { a: "invite"; room: string; from: string }
  | RemoteBan
  | { a: "op"; room: string; op: boolean };

/**
 * `ban` of a user of another node who is not in the room: by `by` (whose
 * answer carries `id`), who is a server operator when `sop`.
 */
export interface RemoteBan {
  a: "ban";
  room: string;
  by: string;
  ts: number;
  reason: string;
  sop: boolean;
  id?: string;
}

/** Who gets a relayed event as the answer to its frame: the session of `nick` here, with `id`. */
export interface RelayReply {
  nick: string;
  id?: string;
}

/** A room in the `rooms` listing. */
export interface ClusterRoom {
  name: string;
  members: number;
  seq: number;
}

/** One change to a room's kept state, as other nodes apply it to their live copy. */
export type RoomStateChange =
  | { t: "topic"; topic: TopicRecord | null }
  | { t: "modes"; modes: RoomModes }
  | { t: "op"; account: string; op: boolean }
  | { t: "ban"; ban: BanRecord }
  | { t: "unban"; mask: string };

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
  /** Members of a room on every node (guest operators marked `op`). */
  members(room: string): Promise<ClusterMember[]>;
  /** A guest of this node (`key`, session `sessionId`) became (`op`) or stopped being an operator of `room`: on record for other nodes. */
  guestOperator?(room: string, key: string, sessionId: string, op: boolean): void;
  /** Rooms with members on any node. */
  rooms(): Promise<ClusterRoom[]>;
  /** Sends a DM to a user on another node; false when nobody holds `key`. */
  sendDm(key: string, frame: ServerFrame): Promise<boolean>;
  /** Sends a moderation action to the node of the user holding `key`; false when nobody holds it. */
  sendAction(key: string, action: RemoteAction): Promise<boolean>;
  /**
   * Tells the members of `room` on other nodes `frame` (only its operators
   * there with `operatorsOnly`). Issued after the store write of the same
   * change, so other nodes apply the change before they show it. With
   * `reply`, the node of the session that asked gives it `frame` as its
   * answer (with its id) instead of a plain copy.
   */
  tellRoom(room: string, frame: ServerFrame, operatorsOnly: boolean, reply?: RelayReply): void;
}
