/**
 * The store seam: what must outlive a connection, behind one small interface
 * per concern, with a memory and a SQLite implementation (a Redis one for
 * several nodes comes later). Modelled on Centrifugo's engine: a room's
 * messages are a stream with an offset (`seq`) and an `epoch` that names the
 * stream's incarnation.
 *
 * Answers are {@linkcode Awaitable}: memory and SQLite return plain values at
 * once (no promise, no microtask on the hot path), while a networked store
 * may return a promise. Callers use {@linkcode whenReady}, which calls on at
 * once for a value.
 *
 * Later concerns (accounts, room operators, topic, modes, bans) get their own
 * small interfaces and tables beside {@linkcode RoomLog}; a store
 * implementation may implement several.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";

/** A value now, or a promise of one (a store across the network). */
export type Awaitable<T> = T | Promise<T>;

/**
 * Calls `next` with `value`: synchronously for a plain value, after it
 * settles for a promise. Errors (thrown or rejected) go to `fail`.
 */
export function whenReady<T>(value: Awaitable<T>, next: (value: T) => void, fail: (error: unknown) => void): void {
  if (value instanceof Promise) value.then(next, fail);
  else next(value);
}

/** A room as the store knows it: its name, latest seq and epoch. */
export interface StoredRoom {
  name: string;
  /** Seq of the latest message; 0 before the first. */
  seq: number;
  /** Names the room's incarnation; kept across restarts by a durable store. */
  epoch: string;
}

/** Which messages of a room a {@linkcode RoomLog.page} asks for. */
export interface PageQuery {
  /** Only messages with seq below this; the newest such. */
  before?: number;
  /** Only messages with seq above this; the oldest such. */
  after?: number;
  /** At most this many (at least 1). */
  limit: number;
}

/**
 * Thrown (or rejected with) when the store cannot take a write now (a full
 * disk, a lost database); the frame that needed it gets `error`
 * `unavailable` with `retry_after_ms`, never an ack.
 */
export class StoreUnavailable extends Error {
  /** Stable code, as sent to clients. */
  readonly code = "unavailable";
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

/** A room's message stream: seq, epoch and kept messages. */
export interface RoomLog {
  /**
   * Whether messages outlive the process. When false (memory), the hub's own
   * recent-message ring is all the history there is and {@linkcode page}
   * finds nothing older.
   */
  readonly durable: boolean;
  /**
   * Rooms kept from an earlier run, least recently active first, at most
   * `limit` (older ones past it are deleted). Read once at start: one small
   * row per room, never the messages.
   */
  rooms(limit: number): Awaitable<StoredRoom[]>;
  /**
   * Appends a message to `room` and returns it with its seq (one above
   * `room.seq`; the caller then advances `room.seq`). Local stores answer at
   * once; the message is durable once {@linkcode flush} has returned true.
   * Throws {@linkcode StoreUnavailable} when it cannot take writes.
   * `origin` (the sender's session and frame id) travels with the message
   * where other nodes deliver it (a cluster); local stores ignore it.
   */
  append(room: StoredRoom, from: string, text: string, ts: number, origin?: string): Awaitable<MsgFrame>;
  /**
   * Up to `query.limit` kept messages of `room`, ascending by seq: before
   * `before` (the newest such), after `after` (the oldest such), or with
   * neither the newest.
   */
  page(room: string, query: PageQuery): Awaitable<MsgFrame[]>;
  /** Deletes a room the hub forgot (past `max_rooms`) and all its messages. */
  forget(room: string): Awaitable<void>;
  /**
   * Makes every append so far durable (one transaction for the whole batch).
   * Called before any byte leaves the process; returns false while it cannot
   * (the caller then holds its output and calls again later).
   */
  flush(): boolean;
  /** Flushes and releases the store (the data directory's lock too). */
  close(): Awaitable<void>;
}
