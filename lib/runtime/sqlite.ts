/**
 * SQLite for the store layer, on every runtime: `bun:sqlite` under Bun (and in
 * `bun build --compile` executables), `node:sqlite` under Node (22.5+) and
 * Deno. Both are synchronous, in-process libraries with nearly the same
 * shape; this file narrows them to the few calls the store makes and gives
 * their errors one {@linkcode SqliteErrorKind}.
 *
 * The modules are imported dynamically, on first open, so the Node bundle
 * never asks Node for `bun:sqlite` and a memory-only server loads neither.
 *
 * - Bun: https://bun.com/docs/runtime/sqlite
 * - Node and Deno: https://nodejs.org/api/sqlite.html
 *
 * @module
 */

/** A value SQLite hands back or takes as a parameter. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** A prepared statement; parameters are positional (`?`). */
export interface SqliteStatement {
  /** Runs it; returns how many rows changed. */
  run(...params: SqlValue[]): { changes: number };
  /** The first row, or undefined. */
  get<T = Record<string, SqlValue>>(...params: SqlValue[]): T | undefined;
  /** Every row. */
  all<T = Record<string, SqlValue>>(...params: SqlValue[]): T[];
}

/** An open database connection. */
export interface SqliteDb {
  /** Runs one or more statements without results. */
  exec(sql: string): void;
  /** Prepares a statement (prepare once, run many). */
  prepare(sql: string): SqliteStatement;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** What went wrong, by SQLite's primary result code. */
export type SqliteErrorKind = "full" | "busy" | "not_a_database" | "corrupt" | "cannot_open" | "readonly" | "io" | "other";

/** Classifies an error thrown by either SQLite module (their error shapes differ). */
export function sqliteErrorKind(error: unknown): SqliteErrorKind {
  const e = error as { errcode?: number; errno?: number; code?: string; message?: string };
  const code = typeof e?.errcode === "number" ? e.errcode : typeof e?.errno === "number" ? e.errno : -1;
  switch (code & 0xff) {
    case 13:
      return "full";
    case 5:
    case 6:
      return "busy";
    case 26:
      return "not_a_database";
    case 11:
      return "corrupt";
    case 14:
      return "cannot_open";
    case 8:
      return "readonly";
    case 10:
      return "io";
  }
  // Deno's node:sqlite reports only the message.
  const message = String(e?.message ?? error);
  if (/disk is full|database or disk is full/i.test(message)) return "full";
  if (/database is locked|database table is locked|busy/i.test(message)) return "busy";
  if (/not a database/i.test(message)) return "not_a_database";
  if (/malformed|corrupt/i.test(message)) return "corrupt";
  if (/unable to open/i.test(message)) return "cannot_open";
  if (/readonly|read-only/i.test(message)) return "readonly";
  if (/disk I\/O error/i.test(message)) return "io";
  return "other";
}

/** This runtime has no SQLite module (Node before 22.5). */
export class SqliteMissing extends Error {}

type Driver = (path: string, readOnly: boolean) => SqliteDb;
let driver: Promise<Driver> | undefined;

/** Loads the runtime's SQLite module once. */
function loadDriver(): Promise<Driver> {
  return driver ??= "Bun" in globalThis && !("Deno" in globalThis) ? loadBun() : loadNode();
}

async function loadBun(): Promise<Driver> {
  // A variable specifier keeps bundlers and type checkers away from a module only Bun has.
  const specifier = "bun:sqlite";
  const { Database } = await import(specifier);
  return (path, readOnly) => {
    const db = readOnly ? new Database(path, { readonly: true }) : new Database(path, { create: true });
    return {
      exec: (sql) => void db.exec(sql),
      prepare: (sql) => {
        const stmt = db.prepare(sql);
        return {
          run: (...params) => ({ changes: Number(stmt.run(...params).changes) }),
          // bun:sqlite answers null for no row; node:sqlite undefined.
          get: (...params) => stmt.get(...params) ?? undefined,
          all: (...params) => stmt.all(...params),
        };
      },
      close: () => db.close(),
    };
  };
}

async function loadNode(): Promise<Driver> {
  const specifier = "node:sqlite";
  let DatabaseSync;
  try {
    ({ DatabaseSync } = await quietly(() => import(specifier)));
  } catch {
    driver = undefined;
    throw new SqliteMissing("this runtime has no node:sqlite: a data directory needs Node 22.5 or newer (or run with --memory)");
  }
  return (path, readOnly) => {
    const db = new DatabaseSync(path, readOnly ? { readOnly: true } : {});
    return {
      exec: (sql) => db.exec(sql),
      prepare: (sql) => {
        const stmt = db.prepare(sql);
        return {
          run: (...params) => ({ changes: Number(stmt.run(...params).changes) }),
          get: (...params) => stmt.get(...params),
          all: (...params) => stmt.all(...params),
        };
      },
      close: () => {
        if (db.isOpen) db.close();
      },
    };
  };
}

/**
 * Runs `load` with Node's "SQLite is an experimental feature" warning
 * silenced (Node 22.5 to 22.x print it to stderr on first import; a server's
 * stderr carries only its own log lines).
 */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const proc = (globalThis as { process?: { emitWarning: (...args: unknown[]) => void } }).process;
  if (!proc || "Deno" in globalThis) return await load();
  const original = proc.emitWarning;
  proc.emitWarning = function (warning: unknown, ...rest: unknown[]) {
    if (String((warning as Error)?.message ?? warning).includes("SQLite")) return;
    return original.call(this, warning, ...rest);
  };
  try {
    return await load();
  } finally {
    proc.emitWarning = original;
  }
}

/**
 * Writes a consistent copy of the database at `source` to `target` while
 * other processes may be writing to it: SQLite's online backup API under
 * Node and Deno (`node:sqlite`'s `backup`; Deno's SQLite allows no ATTACH, so
 * no `VACUUM INTO`), `VACUUM INTO` under Bun (which has no backup call).
 */
export async function backupSqlite(source: string, target: string): Promise<void> {
  if ("Bun" in globalThis && !("Deno" in globalThis)) {
    const db = await openSqlite(source);
    try {
      db.exec("PRAGMA busy_timeout = 10000");
      db.prepare("VACUUM INTO ?").run(target);
    } finally {
      db.close();
    }
    return;
  }
  const specifier = "node:sqlite";
  const { DatabaseSync, backup } = await quietly(() => import(specifier));
  const db = new DatabaseSync(source);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    await backup(db, target);
  } finally {
    db.close();
  }
}

/** Opens (creating unless `readOnly`) the database file at `path`. Throws SQLite's errors. */
export async function openSqlite(path: string, options: { readOnly?: boolean } = {}): Promise<SqliteDb> {
  const open = await loadDriver();
  return open(path, options.readOnly ?? false);
}
