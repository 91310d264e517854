/**
 * What the hub is given besides its settings and sink: the stores it keeps
 * state in, the password hasher, and a clock for answers that arrive later
 * (a password check). Also the narrow view of the hub that the account and
 * moderation handlers work through.
 *
 * @module
 */
import type { ErrorCode, ServerFrame } from "../protocol/server_frames.ts";
import { type AccountStore, type Awaitable, MemoryAccountStore } from "../store/account_store.ts";
import { MemoryRoomStateStore, type RoomStateStore } from "../store/room_state_store.ts";
import { MemoryStore } from "../store/memory_store.ts";
import type { RoomLog } from "../store/types.ts";
import type { HubSettings, HubSink } from "./hub.ts";
import type { HubCluster } from "./hub_cluster.ts";
import type { PasswordHasher } from "./password_hasher.ts";
import type { Room } from "./room.ts";
import type { Session } from "./session.ts";

/** The hub's collaborators. */
export interface HubServices {
  /** Rooms' seq, epoch and messages (memory unless a data directory is used). */
  roomLog: RoomLog;
  accounts: AccountStore;
  roomStates: RoomStateStore;
  hasher: PasswordHasher;
  /** The time when a deferred answer arrives (the hub is otherwise given `now`). */
  now(): number;
}

/** One moderation or account action, for the log and the metrics. Never holds a password. */
export interface AuditEvent {
  /** What happened: `kick`, `ban`, `login_failed`, `register`, ... */
  action: string;
  /** Nick of the actor ("-" before registration). */
  by: string;
  /** The nick, account or mask acted on. */
  target?: string;
  room?: string;
  reason?: string;
  /** Counted but logged only at debug: events a client can repeat at will (a throttled guess). */
  quiet?: boolean;
}

/** A hasher for hubs that were given none: every request fails. */
const NO_HASHER: PasswordHasher = {
  hash: () => Promise.reject(new Error("no password hasher configured")),
  verify: () => Promise.reject(new Error("no password hasher configured")),
};

/** Memory stores, no hasher (accounts then answer `unavailable`), Date.now: for hubs built without services. */
export function defaultHubServices(): HubServices {
  return {
    roomLog: new MemoryStore(),
    accounts: new MemoryAccountStore(),
    roomStates: new MemoryRoomStateStore(),
    hasher: NO_HASHER,
    now: Date.now,
  };
}

/** The part of the hub that the account and moderation handlers use. */
export interface HubCore<P> {
  readonly settings: HubSettings;
  readonly sink: HubSink<P>;
  readonly services: HubServices;
  /** Set when this node is one of a cluster's (moderation then reaches users and rooms on other nodes). */
  readonly cluster?: HubCluster | undefined;
  /** Sends an error frame to `session`. */
  error(session: Session<P>, code: ErrorCode, message: string, id: string | undefined, extra?: { field?: string; retry_after_ms?: number }): void;
  /**
   * Runs `then` with `value` now if it is ready, else once it settles (with
   * the time then); meanwhile the session's frames are held and handled in
   * order afterwards. A departed session's continuation is skipped.
   */
  defer<T>(
    session: Session<P>,
    value: Awaitable<T>,
    now: number,
    then: (value: T, now: number) => void,
    failed: (error: unknown, now: number) => void,
  ): void;
  /** The connected, registered session with this nick. */
  sessionByNick(nick: string): Session<P> | undefined;
  /** The room with this name, if the hub has it. */
  room(name: string): Room<P> | undefined;
  /** Every room the hub has. */
  allRooms(): Iterable<Room<P>>;
  /** Takes `session` out of `room` (no frames sent here; `event`, the leave told here, goes to other nodes of a cluster). */
  removeFromRoom(room: Room<P>, session: Session<P>, event?: ServerFrame): void;
  /** Says `bye` with `reason` and disconnects `session`. */
  end(session: Session<P>, reason: "killed", id?: string): void;
  /** Whether `session` is a server operator. */
  isServerOperator(session: Session<P>): boolean;
  /** Broadcast helper: `frame` to `to` and, with `id`, the actor's own copy. */
  tell(to: Iterable<Session<P>>, frame: ServerFrame, actor: Session<P>, id: string | undefined): void;
  /** Reports an action by `actor` to the sink's audit trail (log and metrics). */
  audit(event: AuditEvent, actor?: Session<P>): void;
  /** `session` logged in or out after hello: its neighbours are told where a dialect can (IRC account-notify). */
  accountChanged(session: Session<P>): void;
}
