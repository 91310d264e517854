/**
 * What a room keeps besides its messages: topic, modes, account operators and
 * bans. A small interface and its in-memory implementation.
 *
 * The hub holds the live copy of a room's state (on its `Room`) and writes
 * each change through here; `load` is read once, when the hub makes the room.
 * Writes return {@linkcode Awaitable}: a SQLite store answers at once, a Redis
 * store after a round trip, and the hub never waits for a write (per room,
 * writes are issued in order; a store must apply them in that order).
 *
 * Operators are kept as account names exactly as registered (the account
 * record's `name`, which never changes), so the store compares them as plain
 * strings.
 *
 * The SQLite implementation (sqlite_room_state_store.ts, schema version 3) uses three small tables keyed by room name (not the
 * messages' room id: state outlives a room that has no messages):
 *
 * ```sql
 * CREATE TABLE room_state (room TEXT PRIMARY KEY, topic TEXT, topic_by TEXT, topic_ts INTEGER,
 *   invite_only INTEGER NOT NULL, key TEXT NOT NULL, topic_lock INTEGER NOT NULL) WITHOUT ROWID;
 * CREATE TABLE room_operators (room TEXT NOT NULL, account TEXT NOT NULL, PRIMARY KEY (room, account)) WITHOUT ROWID;
 * CREATE TABLE room_bans (room TEXT NOT NULL, mask TEXT NOT NULL, by TEXT NOT NULL, ts INTEGER NOT NULL,
 *   reason TEXT NOT NULL, PRIMARY KEY (room, mask)) WITHOUT ROWID;
 * ```
 *
 * `load` is undefined when no table has a row for the room. The contract
 * suite in tests/support/store_contract.ts says what every implementation
 * must do.
 *
 * @module
 */
import type { Awaitable } from "./account_store.ts";

/** A room's topic and who set it. */
export interface TopicRecord {
  text: string;
  /** Nick of the setter. */
  by: string;
  /** When (ms since epoch). */
  ts: number;
}

/** A room's modes. `key` is the join password itself (empty: none); it is never sent to clients. */
export interface RoomModes {
  invite_only: boolean;
  key: string;
  topic_lock: boolean;
}

/** One ban. */
export interface BanRecord {
  /** `account:NAME` (account key) or `nick:NAME` (nick key). */
  mask: string;
  /** Nick of the operator who set it. */
  by: string;
  ts: number;
  reason: string;
}

/** Everything kept about one room. */
export interface RoomStateRecord {
  topic: TopicRecord | null;
  modes: RoomModes;
  /** Account names of the room's account operators. */
  operators: string[];
  bans: BanRecord[];
}

/** The modes of a room nobody has changed. */
export function defaultModes(): RoomModes {
  return { invite_only: false, key: "", topic_lock: true };
}

/** The room-state seam: memory and SQLite (sqlite_room_state_store.ts) now, Redis later. */
export interface RoomStateStore {
  /** The kept state of `room`, or undefined when nothing was ever kept. */
  load(room: string): Awaitable<RoomStateRecord | undefined>;
  /** Sets (or clears, with null) the topic. */
  setTopic(room: string, topic: TopicRecord | null): Awaitable<void>;
  /** Replaces the modes. */
  setModes(room: string, modes: RoomModes): Awaitable<void>;
  /** Adds (`op` true) or removes an account operator. */
  setOperator(room: string, account: string, op: boolean): Awaitable<void>;
  /** Adds or replaces the ban with `ban.mask`. */
  addBan(room: string, ban: BanRecord): Awaitable<void>;
  /** Removes the ban with `mask`. */
  removeBan(room: string, mask: string): Awaitable<void>;
  /** Removes `account` from the operators of every room (the account was dropped). */
  forgetOperator(account: string): Awaitable<void>;
}

/** Room state in a Map; lost when the process ends. */
export class MemoryRoomStateStore implements RoomStateStore {
  readonly #rooms = new Map<string, RoomStateRecord>();

  #room(room: string): RoomStateRecord {
    let state = this.#rooms.get(room);
    if (!state) this.#rooms.set(room, state = { topic: null, modes: defaultModes(), operators: [], bans: [] });
    return state;
  }

  /** RoomStateStore; returns a copy, so later changes to the store do not leak into it. */
  load(room: string): RoomStateRecord | undefined {
    const state = this.#rooms.get(room);
    if (!state) return undefined;
    return {
      topic: state.topic && { ...state.topic },
      modes: { ...state.modes },
      operators: [...state.operators],
      bans: state.bans.map((ban) => ({ ...ban })),
    };
  }

  /** RoomStateStore. */
  setTopic(room: string, topic: TopicRecord | null): void {
    this.#room(room).topic = topic && { ...topic };
  }

  /** RoomStateStore. */
  setModes(room: string, modes: RoomModes): void {
    this.#room(room).modes = { ...modes };
  }

  /** RoomStateStore. */
  setOperator(room: string, account: string, op: boolean): void {
    const state = this.#room(room);
    state.operators = state.operators.filter((name) => name !== account);
    if (op) state.operators.push(account);
  }

  /** RoomStateStore. */
  addBan(room: string, ban: BanRecord): void {
    const state = this.#room(room);
    state.bans = state.bans.filter((b) => b.mask !== ban.mask);
    state.bans.push({ ...ban });
  }

  /** RoomStateStore. */
  removeBan(room: string, mask: string): void {
    const state = this.#room(room);
    state.bans = state.bans.filter((b) => b.mask !== mask);
  }

  /** RoomStateStore. */
  forgetOperator(account: string): void {
    for (const state of this.#rooms.values()) {
      state.operators = state.operators.filter((name) => name !== account);
    }
  }
}
