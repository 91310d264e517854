/**
 * The SQLite store: room seq, epoch and messages in one database file in the
 * data directory (WAL mode, `synchronous=NORMAL`).
 *
 * Writes are grouped: `append` only assigns the seq and keeps the row in a
 * batch; `flush` writes the whole batch in one transaction. The server calls
 * `flush` at the start of every write-scheduler pass, before any byte is
 * handed to a socket, so a message's ack (and every other copy of it) leaves
 * the process only after the transaction holding it has committed, and one
 * commit serves everything one turn of input produced.
 *
 * A full disk: a reserve file (`reserve`, {@linkcode RESERVE_BYTES}) is kept
 * in the data directory. When a commit fails for lack of space the reserve is
 * deleted and the same batch committed again into the freed space, so what
 * was already queued as acked is stored; then the store refuses new writes
 * (`unavailable`) until the reserve can be written again with room to spare,
 * checked every {@linkcode RETRY_MS}. If even that commit fails, `flush`
 * answers false and the server holds its output until a later try succeeds.
 *
 * @module
 */
import type { MsgFrame } from "../protocol/server_frames.ts";
import { removeFile, writeFilledFile } from "../runtime/data_files.ts";
import { type SqliteDb, sqliteErrorKind, type SqliteStatement, type SqlValue } from "../runtime/sqlite.ts";
import type { Checkpointer } from "./checkpointer.ts";
import { type PageQuery, type RoomLog, type StoredRoom, StoreUnavailable } from "./types.ts";

/** Disk space held back for the batch that meets a full disk. */
export const RESERVE_BYTES = 2 * 1024 * 1024;
/** How often a store that cannot write checks whether it can again; also the clients' retry_after_ms. */
export const RETRY_MS = 1000;
/** Free pages past which a maintenance pass gives space back to the file system. */
const VACUUM_FREE_PAGES = 256;
/** How often the maintenance pass runs. */
const MAINTENANCE_MS = 10_000;
/** Most rows in one INSERT (5 parameters each, well under SQLite's 999). */
const INSERT_ROWS = 16;
/** How far a room's stored last activity may lag its newest message. */
const ACTIVE_AT_STEP_MS = 60_000;

/** What the store reads from the settings (the object may change on reload). */
export interface SqliteStoreSettings {
  /** Messages kept per room. */
  history: number;
}

/** Paths and hooks of an opened store. */
export interface SqliteStoreOptions {
  /** The reserve file's path. */
  reservePath: string;
  /** Called when the store can write again after it could not (to resume held output). */
  onRecovered?: () => void;
  /** Reports a write failure (for the log). */
  onWriteFailure?: (message: string) => void;
  /** Called when the database (and lock) are closed. */
  onClose?: () => void;
  /** Reports a change worth a warning that is not a write failure (checkpoints back on the message path). */
  onNotice?: (message: string) => void;
  /** Takes the WAL checkpoints off the message path; told of each commit, closed before the database. */
  checkpointer?: Checkpointer;
}

/** One appended message waiting for the batch's commit. */
interface PendingRow {
  epoch: string;
  msg: MsgFrame;
}

/**
 * Another store's writes that ride in the message batch's transaction (room
 * state: topic, modes, operators, bans), so they commit, or are held, with
 * the output that acknowledges them.
 */
export interface BatchPart {
  /** Whether it has writes waiting. */
  readonly pending: boolean;
  /** Runs its waiting writes (inside the open transaction). */
  write(): void;
  /** The transaction committed: drop the writes just written. */
  committed(): void;
}

interface Row {
  seq: number;
  ts: number;
  nick: string;
  text: string;
}

/** A durable {@linkcode RoomLog} over an open, migrated SQLite database. */
export class SqliteStore implements RoomLog {
  readonly durable = true;
  #pending: PendingRow[] = [];
  /** Other stores' writes committed with each batch. */
  readonly #parts: BatchPart[] = [];
  /** Room ids by name, for rooms that have a row. */
  readonly #ids = new Map<string, number>();
  /** The active_at stored for each room id this process wrote (absent: not known, write it). */
  readonly #activeAt = new Map<number, number>();
  /** Multi-row INSERTs by row count. */
  readonly #inserts: (SqliteStatement | undefined)[] = [];
  /** Set while writes are refused; the time of the failure. */
  #unavailableSince = 0;
  #retryTimer: ReturnType<typeof setInterval> | undefined;
  readonly #maintenanceTimer: ReturnType<typeof setInterval>;
  #closed = false;
  readonly #q: Record<
    | "roomId"
    | "insertRoom"
    | "updateRoom"
    | "updateSeq"
    | "prune"
    | "after"
    | "before"
    | "newest"
    | "range"
    | "deleteRoomMsgs"
    | "deleteRoom"
    | "rooms",
    SqliteStatement
  >;

  constructor(
    readonly db: SqliteDb,
    readonly settings: SqliteStoreSettings,
    readonly options: SqliteStoreOptions,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      roomId: p("SELECT id FROM rooms WHERE name = ?"),
      insertRoom: p("INSERT INTO rooms (name, epoch, seq, active_at) VALUES (?, ?, 0, ?) RETURNING id"),
      updateRoom: p("UPDATE rooms SET seq = ?, active_at = ? WHERE id = ?"),
      updateSeq: p("UPDATE rooms SET seq = ? WHERE id = ?"),
      prune: p("DELETE FROM messages WHERE room_id = ? AND seq <= ?"),
      after: p("SELECT seq, ts, nick, text FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
      before: p("SELECT seq, ts, nick, text FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"),
      newest: p("SELECT seq, ts, nick, text FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?"),
      range: p(
        "SELECT seq, ts, nick, text FROM messages WHERE room_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?",
      ),
      deleteRoomMsgs: p("DELETE FROM messages WHERE room_id = ?"),
      deleteRoom: p("DELETE FROM rooms WHERE id = ?"),
      rooms: p("SELECT id, name, seq, epoch FROM rooms ORDER BY active_at DESC, id DESC"),
    };
    this.#maintenanceTimer = setInterval(() => this.reclaim(), MAINTENANCE_MS);
    unref(this.#maintenanceTimer);
  }

  /** Whether writes are refused now (a full or failing disk). */
  get unavailable(): boolean {
    return this.#unavailableSince !== 0;
  }

  /** Messages appended but not yet committed. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Adds `part`'s writes to every batch from now on. */
  join(part: BatchPart): void {
    this.#parts.push(part);
  }

  rooms(limit: number): StoredRoom[] {
    const all = this.#q.rooms.all<{ id: number; name: string; seq: number; epoch: string }>();
    const kept = all.slice(0, limit);
    for (const room of all.slice(limit)) this.#deleteRoom(room.id);
    for (const room of kept) this.#ids.set(room.name, room.id);
    return kept.reverse().map(({ name, seq, epoch }) => ({ name, seq, epoch }));
  }

  append(room: StoredRoom, from: string, text: string, ts: number): MsgFrame {
    if (this.#unavailableSince !== 0) {
      throw new StoreUnavailable("the server cannot store messages right now (its disk is full or failing)", RETRY_MS);
    }
    const msg: MsgFrame = { type: "msg", room: room.name, from, text, seq: room.seq + 1, ts };
    this.#pending.push({ epoch: room.epoch, msg });
    return msg;
  }

  page(room: string, query: PageQuery): MsgFrame[] {
    // Reads see the current batch too.
    if (this.#pending.length > 0) this.flush();
    try {
      return this.#page(room, query);
    } catch (error) {
      this.options.onWriteFailure?.(`cannot read ${room}: ${(error as Error).message}`);
      throw new StoreUnavailable("the server cannot read its history right now", RETRY_MS);
    }
  }

  #page(room: string, query: PageQuery): MsgFrame[] {
    const id = this.#roomId(room);
    if (id === undefined) return [];
    const limit = Math.max(1, query.limit);
    let rows: Row[];
    if (query.after !== undefined && query.before !== undefined) {
      rows = this.#q.range.all<Row>(id, query.after, query.before, limit);
    } else if (query.after !== undefined) rows = this.#q.after.all<Row>(id, query.after, limit);
    else if (query.before !== undefined) rows = this.#q.before.all<Row>(id, query.before, limit).reverse();
    else rows = this.#q.newest.all<Row>(id, limit).reverse();
    return rows.map((r) => ({ type: "msg", room, from: r.nick, text: r.text, seq: r.seq, ts: r.ts }));
  }

  forget(room: string): void {
    if (this.#pending.some((p) => p.msg.room === room)) this.#pending = this.#pending.filter((p) => p.msg.room !== room);
    const id = this.#roomId(room);
    if (id === undefined) return;
    try {
      this.#deleteRoom(id);
    } catch (error) {
      // Left for a later start (rooms past max_rooms are deleted then); nothing acked depends on it.
      this.options.onWriteFailure?.(`cannot delete forgotten room ${room}: ${(error as Error).message}`);
    }
    this.#ids.delete(room);
  }

  flush(): boolean {
    if ((this.#pending.length === 0 && !this.#parts.some((part) => part.pending)) || this.#closed) return true;
    try {
      this.#commit();
      return true;
    } catch (first) {
      this.#becomeUnavailable(`cannot commit ${this.#pending.length} messages: ${(first as Error).message}`);
      // Space for exactly this case: give the reserve back to the file system and commit again.
      removeFile(this.options.reservePath);
      try {
        this.#commit();
        return true;
      } catch (second) {
        this.options.onWriteFailure?.(`still cannot commit, holding output: ${(second as Error).message}`);
        return false;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    clearInterval(this.#maintenanceTimer);
    clearInterval(this.#retryTimer);
    // First, so this connection is the last one and SQLite checkpoints and removes the WAL as it closes.
    this.options.checkpointer?.close();
    try {
      this.db.exec("PRAGMA optimize");
    } catch { /* best effort */ }
    this.db.close();
    this.options.onClose?.();
  }

  /** Writes the batch in one transaction; on failure rolls back and keeps it. */
  #commit(): void {
    const batch = this.#pending;
    const latest = new Map<number, MsgFrame>();
    this.db.exec("BEGIN");
    try {
      // Up to INSERT_ROWS rows per INSERT: under node:sqlite each call costs more than the row it inserts.
      const params: SqlValue[] = [];
      let rows = 0;
      for (const { epoch, msg } of batch) {
        const id = this.#roomId(msg.room) ?? this.#insertRoom(msg.room, epoch, msg.ts);
        params.push(id, msg.seq, msg.ts, msg.from, msg.text);
        latest.set(id, msg);
        if (++rows === INSERT_ROWS) {
          this.#insertMsgs(rows).run(...params);
          params.length = 0;
          rows = 0;
        }
      }
      if (rows > 0) this.#insertMsgs(rows).run(...params);
      const history = this.settings.history;
      for (const [id, msg] of latest) {
        // active_at only orders rooms for forgetting: moved at most once a minute, so most commits
        // leave the rooms_by_activity index (one more WAL page each) alone.
        const activeAt = this.#activeAt.get(id);
        if (activeAt === undefined || msg.ts - activeAt >= ACTIVE_AT_STEP_MS) {
          this.#q.updateRoom.run(msg.seq, msg.ts, id);
          this.#activeAt.set(id, msg.ts);
        } else this.#q.updateSeq.run(msg.seq, id);
        if (msg.seq > history) this.#q.prune.run(id, msg.seq - history);
      }
      for (const part of this.#parts) if (part.pending) part.write();
      this.db.exec("COMMIT");
      this.options.checkpointer?.committed();
    } catch (error) {
      try {
        this.db.exec("ROLLBACK");
      } catch { /* SQLite may have rolled back already */ }
      // Ids and times handed out inside the rolled-back transaction are gone.
      this.#ids.clear();
      this.#activeAt.clear();
      throw error;
    }
    this.#pending = [];
    for (const part of this.#parts) part.committed();
  }

  /** The INSERT of `rows` messages, prepared once per row count. */
  #insertMsgs(rows: number): SqliteStatement {
    let stmt = this.#inserts[rows];
    if (stmt === undefined) {
      const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?)").join(", ");
      stmt = this.#inserts[rows] = this.db.prepare(`INSERT INTO messages (room_id, seq, ts, nick, text) VALUES ${values}`);
    }
    return stmt;
  }

  #roomId(room: string): number | undefined {
    let id = this.#ids.get(room);
    if (id === undefined) {
      id = this.#q.roomId.get<{ id: number }>(room)?.id;
      if (id !== undefined) this.#ids.set(room, id);
    }
    return id;
  }

  #insertRoom(room: string, epoch: string, ts: number): number {
    const id = this.#q.insertRoom.get<{ id: number }>(room, epoch, ts)!.id;
    this.#ids.set(room, id);
    return id;
  }

  #deleteRoom(id: number): void {
    this.#activeAt.delete(id);
    this.db.exec("BEGIN");
    try {
      this.#q.deleteRoomMsgs.run(id);
      this.#q.deleteRoom.run(id);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  #becomeUnavailable(message: string): void {
    this.options.onWriteFailure?.(message);
    if (this.#unavailableSince !== 0) return;
    this.#unavailableSince = Date.now();
    this.#retryTimer = setInterval(() => this.#tryRecover(), RETRY_MS);
    unref(this.#retryTimer);
  }

  /**
   * Writable again once the reserve can be written with as much again to
   * spare (so the next batch does not meet a full disk at once), and any
   * held batch has committed.
   */
  #tryRecover(): void {
    const probe = this.options.reservePath + ".probe";
    try {
      writeFilledFile(probe, RESERVE_BYTES);
      removeFile(probe);
      writeFilledFile(this.options.reservePath, RESERVE_BYTES);
      this.#commit();
    } catch {
      return;
    }
    clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#unavailableSince = 0;
    this.options.onRecovered?.();
  }

  /** Gives freed pages back to the file system, a bounded amount at a time (run every 10 s). */
  reclaim(): void {
    if (this.#closed || this.#unavailableSince !== 0) return;
    try {
      const free = this.db.prepare("PRAGMA freelist_count").get<{ freelist_count: number }>()?.freelist_count ?? 0;
      if (free > VACUUM_FREE_PAGES) this.db.exec(`PRAGMA incremental_vacuum(${Math.min(free, 4096)})`);
    } catch (error) {
      if (sqliteErrorKind(error) !== "busy") this.options.onWriteFailure?.(`maintenance failed: ${(error as Error).message}`);
    }
  }
}

/** Lets the process exit while a timer is pending (Node, Bun and Deno timers all allow it). */
function unref(timer: ReturnType<typeof setInterval>): void {
  const t = timer as unknown as { unref?: () => void } | number;
  if (typeof t === "object" && t?.unref) t.unref();
  else if (typeof t === "number" && "Deno" in globalThis) {
    (globalThis as unknown as { Deno: { unrefTimer(id: number): void } }).Deno.unrefTimer(t);
  }
}
