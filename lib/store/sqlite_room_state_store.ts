/**
 * {@linkcode RoomStateStore} over the data directory's database (tables
 * `room_state`, `room_operators`, `room_bans`; schema.ts).
 *
 * Writes join the message batch: each call only queues its statement, and
 * {@linkcode SqliteStore.flush} runs the queue inside the same transaction as
 * the turn's messages. The server flushes before any byte leaves the process,
 * so the answer to a `topic`, `mode`, `op` or `ban` (which the hub sends in
 * the same turn, without waiting for the store) leaves only after the change
 * has committed; on a full disk the change is held with the rest of the
 * batch, and the output with it, until it commits. These writes are never
 * refused: the hub does not wait for them, and they are a few bytes each.
 *
 * Per room, writes run in the order they were issued (one queue). A `load`
 * flushes the queue first, so it sees every write made before it.
 *
 * @module
 */
import type { SqliteDb, SqliteStatement } from "../runtime/sqlite.ts";
import { type BanRecord, defaultModes, type RoomModes, type RoomStateRecord, type RoomStateStore, type TopicRecord } from "./room_state_store.ts";
import type { BatchPart, SqliteStore } from "./sqlite_store.ts";

interface StateRow {
  topic: string | null;
  topic_by: string | null;
  topic_ts: number | null;
  invite_only: number;
  key: string;
  topic_lock: number;
}

/** Room state in SQLite, committed with the message batch. */
export class SqliteRoomStateStore implements RoomStateStore, BatchPart {
  /** Queued writes, in the order they were issued. */
  #queue: (() => void)[] = [];
  /** How many of the queue's writes the open transaction has run. */
  #written = 0;
  readonly #q: Record<
    "ensure" | "topic" | "modes" | "state" | "ops" | "addOp" | "delOp" | "bans" | "addBan" | "delBan" | "forgetOp",
    SqliteStatement
  >;

  /** Joins `batch` (the data directory's message store, whose database this shares). */
  constructor(readonly db: SqliteDb, readonly batch: SqliteStore) {
    const p = (sql: string) => db.prepare(sql);
    const d = defaultModes();
    this.#q = {
      // Every write makes the room's row, so a room that was ever changed loads (as in memory).
      ensure: p(
        `INSERT INTO room_state (room, invite_only, key, topic_lock) VALUES (?, ${Number(d.invite_only)}, '${d.key}', ${
          Number(d.topic_lock)
        }) ON CONFLICT DO NOTHING`,
      ),
      topic: p("UPDATE room_state SET topic = ?, topic_by = ?, topic_ts = ? WHERE room = ?"),
      modes: p("UPDATE room_state SET invite_only = ?, key = ?, topic_lock = ? WHERE room = ?"),
      state: p("SELECT topic, topic_by, topic_ts, invite_only, key, topic_lock FROM room_state WHERE room = ?"),
      ops: p("SELECT account FROM room_operators WHERE room = ? ORDER BY account"),
      addOp: p("INSERT INTO room_operators (room, account) VALUES (?, ?) ON CONFLICT DO NOTHING"),
      delOp: p("DELETE FROM room_operators WHERE room = ? AND account = ?"),
      bans: p("SELECT mask, by, ts, reason FROM room_bans WHERE room = ? ORDER BY ts, mask"),
      addBan: p(
        "INSERT INTO room_bans (room, mask, by, ts, reason) VALUES (?, ?, ?, ?, ?) " +
          "ON CONFLICT (room, mask) DO UPDATE SET by = excluded.by, ts = excluded.ts, reason = excluded.reason",
      ),
      delBan: p("DELETE FROM room_bans WHERE room = ? AND mask = ?"),
      forgetOp: p("DELETE FROM room_operators WHERE account = ?"),
    };
    batch.join(this);
  }

  /** BatchPart. */
  get pending(): boolean {
    return this.#queue.length > 0;
  }

  /** BatchPart: runs the queue (again from its start, if an earlier transaction rolled back). */
  write(): void {
    this.#written = 0;
    for (const write of this.#queue) write();
    this.#written = this.#queue.length;
  }

  /** BatchPart. */
  committed(): void {
    if (this.#written === 0) return;
    this.#queue = this.#queue.slice(this.#written);
    this.#written = 0;
  }

  /** RoomStateStore. */
  load(room: string): RoomStateRecord | undefined {
    // Reads see the queued writes too (a failed flush leaves them queued and reads what is committed).
    if (this.#queue.length > 0) this.batch.flush();
    const state = this.#q.state.get<StateRow>(room);
    const operators = this.#q.ops.all<{ account: string }>(room).map((row) => row.account);
    const bans = this.#q.bans.all<BanRecord>(room).map(({ mask, by, ts, reason }) => ({ mask, by, ts, reason }));
    if (!state && operators.length === 0 && bans.length === 0) return undefined;
    const modes = state
      ? { invite_only: state.invite_only !== 0, key: state.key, topic_lock: state.topic_lock !== 0 }
      : defaultModes();
    const topic = state?.topic != null ? { text: state.topic, by: state.topic_by ?? "", ts: state.topic_ts ?? 0 } : null;
    return { topic, modes, operators, bans };
  }

  /** RoomStateStore. */
  setTopic(room: string, topic: TopicRecord | null): void {
    const t = topic && { ...topic };
    this.#write(room, () => this.#q.topic.run(t?.text ?? null, t?.by ?? null, t?.ts ?? null, room));
  }

  /** RoomStateStore. */
  setModes(room: string, modes: RoomModes): void {
    const m = { ...modes };
    this.#write(room, () => this.#q.modes.run(Number(m.invite_only), m.key, Number(m.topic_lock), room));
  }

  /** RoomStateStore. */
  setOperator(room: string, account: string, op: boolean): void {
    this.#write(room, () => (op ? this.#q.addOp : this.#q.delOp).run(room, account));
  }

  /** RoomStateStore. */
  addBan(room: string, ban: BanRecord): void {
    const b = { ...ban };
    this.#write(room, () => this.#q.addBan.run(room, b.mask, b.by, b.ts, b.reason));
  }

  /** RoomStateStore. */
  removeBan(room: string, mask: string): void {
    this.#write(room, () => this.#q.delBan.run(room, mask));
  }

  /** RoomStateStore. */
  forgetOperator(account: string): void {
    this.#queue.push(() => this.#q.forgetOp.run(account));
  }

  #write(room: string, write: () => void): void {
    this.#queue.push(() => {
      this.#q.ensure.run(room);
      write();
    });
  }
}
