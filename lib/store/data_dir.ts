/**
 * Opens the data directory: creates it, takes its lock, keeps the disk-space
 * reserve, opens and migrates the database. Every way this can fail becomes
 * one {@linkcode StoreOpenError} with a one-line message saying what to do,
 * which `serve` prints before exiting with code 2.
 *
 * Files in the directory:
 * - `tcpchat.db` (and `-wal`, `-shm` beside it while open): the database;
 * - `lock`: a small SQLite file held with an exclusive lock while a server
 *   runs. The lock is the kernel's (fcntl), so it dies with the process: a
 *   `kill -9`'d server leaves nothing stuck;
 * - `reserve`: disk space held back for the moment the disk fills up.
 *
 * @module
 */
import { makeDir, pathExists, writeFilledFile } from "../runtime/data_files.ts";
import { openSqlite, type SqliteDb, sqliteErrorKind, SqliteMissing } from "../runtime/sqlite.ts";
import { Checkpointer } from "./checkpointer.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { RESERVE_BYTES, SqliteStore, type SqliteStoreOptions, type SqliteStoreSettings } from "./sqlite_store.ts";

/** The database file's name inside the data directory. */
export const DB_FILE = "tcpchat.db";
/** The lock file's name inside the data directory. */
export const LOCK_FILE = "lock";
/** The reserve file's name inside the data directory. */
export const RESERVE_FILE = "reserve";

/** The data directory could not be opened; `message` is one line for the operator. */
export class StoreOpenError extends Error {
  /** Stable code for scripts. */
  readonly code = "store_open";
}

/** `dir/name` without a path library (the directory as given, for messages). */
export function inDir(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * Opens the store in `dir` for a server. Throws {@linkcode StoreOpenError}.
 * `manualCheckpoints` (tests) runs no checkpoint timer: the test ticks the
 * store's {@linkcode Checkpointer} with its own clock.
 */
export async function openDataDir(
  dir: string,
  settings: SqliteStoreSettings,
  hooks: Pick<SqliteStoreOptions, "onRecovered" | "onWriteFailure" | "onNotice"> = {},
  manualCheckpoints = false,
): Promise<SqliteStore> {
  try {
    makeDir(dir);
  } catch (error) {
    throw new StoreOpenError(`cannot create data directory ${dir}: ${reason(error)}`);
  }
  const lock = await takeLock(dir);
  let db: SqliteDb | undefined;
  let checkpointer: Checkpointer | null = null;
  try {
    try {
      writeFilledFile(inDir(dir, RESERVE_FILE), RESERVE_BYTES);
    } catch (error) {
      throw new StoreOpenError(`cannot write in data directory ${dir}: ${reason(error)}`);
    }
    db = await openDatabase(inDir(dir, DB_FILE));
    checkpointer = await Checkpointer.start(
      inDir(dir, DB_FILE),
      db,
      (message) => hooks.onNotice?.(message),
      undefined,
      manualCheckpoints,
    );
    return new SqliteStore(db, settings, {
      reservePath: inDir(dir, RESERVE_FILE),
      ...hooks,
      checkpointer: checkpointer ?? undefined,
      onClose: () => lock.close(),
    });
  } catch (error) {
    checkpointer?.close();
    db?.close();
    lock.close();
    throw error;
  }
}

/**
 * A store like {@linkcode openDataDir}'s over a database held in memory, with
 * no directory, lock, reserve file or checkpoints: the start-up warm-up's
 * (lib/server/jit_warmup.ts), so that it runs the SQLite path a server with a
 * data directory runs, without touching the disk.
 */
export async function openMemoryDataStore(settings: SqliteStoreSettings): Promise<SqliteStore> {
  return new SqliteStore(await openDatabase(":memory:"), settings, { reservePath: "" });
}

/**
 * Opens the database in `dir` for a command that changes it while no server
 * runs (`tcpchat account`): takes the directory's lock, so it refuses (with
 * `busy`, one line) while a server holds it, and migrates the schema.
 * Creates the directory and database when `create`; otherwise a directory
 * without a database is refused. `close` releases both.
 */
export async function openDataDirOffline(
  dir: string,
  create: boolean,
  busy: string,
): Promise<{ db: SqliteDb; close(): void }> {
  if (!create && !pathExists(inDir(dir, DB_FILE))) {
    throw new StoreOpenError(`${dir} holds no tcpchat database (${inDir(dir, DB_FILE)} does not exist)`);
  }
  try {
    makeDir(dir);
  } catch (error) {
    throw new StoreOpenError(`cannot create data directory ${dir}: ${reason(error)}`);
  }
  const lock = await takeLock(dir, busy);
  try {
    const db = await openDatabase(inDir(dir, DB_FILE));
    return {
      db,
      close: () => {
        db.close();
        lock.close();
      },
    };
  } catch (error) {
    lock.close();
    throw error;
  }
}

/**
 * Takes the directory's lock: an exclusive SQLite lock on `lock`, held for
 * as long as the connection stays open (locking_mode=EXCLUSIVE keeps it after
 * the first write). `busy` replaces the message when another process holds it.
 */
async function takeLock(dir: string, busy?: string): Promise<SqliteDb> {
  const path = inDir(dir, LOCK_FILE);
  let lock: SqliteDb | undefined;
  try {
    lock = await openSqlite(path);
    lock.exec("PRAGMA busy_timeout = 0; PRAGMA journal_mode = OFF; PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (at INTEGER); DELETE FROM held; INSERT INTO held VALUES (unixepoch()); COMMIT");
    return lock;
  } catch (error) {
    lock?.close();
    if (error instanceof SqliteMissing) throw new StoreOpenError(error.message);
    if (sqliteErrorKind(error) === "busy") {
      if (busy !== undefined) throw new StoreOpenError(busy);
      throw new StoreOpenError(
        `data directory ${dir} is in use by another tcpchat server (${path} is locked); stop that server or use another --data-dir`,
      );
    }
    throw new StoreOpenError(`cannot write in data directory ${dir}: ${reason(error)}`);
  }
}

/** Opens, checks and migrates the database file. */
async function openDatabase(path: string): Promise<SqliteDb> {
  let db: SqliteDb | undefined;
  let version: number;
  try {
    db = await openSqlite(path);
    db.exec("PRAGMA busy_timeout = 5000");
    version = db.prepare("PRAGMA user_version").get<{ user_version: number }>()!.user_version;
    if (version === 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    db.exec(
      // WAL with synchronous=NORMAL: a commit is a write to the WAL without fsync (a killed process
      // loses nothing committed; a power loss may lose the last commits, never consistency).
      // A 16 MiB page cache keeps writes to many rooms cheap. Checkpoints start at SQLite's default
      // of every 1000 pages; openDataDir then turns them off on this connection and takes them on a
      // worker thread (checkpointer.ts), because here one runs inside a commit and stalls the event
      // loop with its fsyncs. The WAL file is cut back to 64 MiB after a checkpoint.
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384; " +
        "PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = 67108864; PRAGMA foreign_keys = OFF",
    );
  } catch (error) {
    db?.close();
    throw new StoreOpenError(describeDbError(path, error));
  }
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new StoreOpenError(
      `${path} has schema version ${version}, newer than this tcpchat understands (${SCHEMA_VERSION}); run a newer tcpchat or restore a backup`,
    );
  }
  try {
    migrate(db, version);
    // Reads a page of each table: a damaged file is refused here rather than at the first message.
    db.exec("SELECT count(*) FROM rooms; SELECT 1 FROM messages LIMIT 1");
  } catch (error) {
    db.close();
    throw new StoreOpenError(describeDbError(path, error));
  }
  return db;
}

/** Brings `db` from `version` to {@linkcode SCHEMA_VERSION}, one transaction per step. */
export function migrate(db: SqliteDb, version: number): void {
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.exec("BEGIN");
    try {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

function describeDbError(path: string, error: unknown): string {
  switch (sqliteErrorKind(error)) {
    case "not_a_database":
    case "corrupt":
      return `${path} is not a tcpchat database or is damaged (${reason(error)}); move it aside or restore a backup`;
    case "busy":
      return `${path} is locked by another process (${reason(error)})`;
    default:
      return `cannot open ${path}: ${reason(error)}`;
  }
}

/** An error's message on one line. */
function reason(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/\s+/g, " ").trim();
}
