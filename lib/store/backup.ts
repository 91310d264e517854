/**
 * A consistent copy of a data directory's database, taken while a server
 * runs: SQLite's online backup (or `VACUUM INTO` on Bun) reads one snapshot
 * (WAL readers never block the server's writer, and the directory's lock is
 * not needed) and writes a self-contained database file.
 *
 * @module
 */
import { pathExists } from "../runtime/data_files.ts";
import { backupSqlite, openSqlite, type SqliteDb } from "../runtime/sqlite.ts";
import { DB_FILE, inDir, StoreOpenError } from "./data_dir.ts";

/** Copies `dir`'s database to `file` (which must not exist). Throws {@linkcode StoreOpenError} with one line. */
export async function backupDataDir(dir: string, file: string): Promise<{ rooms: number; messages: number }> {
  const source = inDir(dir, DB_FILE);
  if (!pathExists(source)) throw new StoreOpenError(`${source} does not exist: is ${dir} a tcpchat data directory?`);
  if (pathExists(file)) throw new StoreOpenError(`${file} already exists; back up to a new file`);
  let db: SqliteDb | undefined;
  try {
    await backupSqlite(source, file);
    // Counted in the copy: what it holds, not what the server has added since.
    db = await openSqlite(file, { readOnly: true });
    const rooms = db.prepare("SELECT count(*) AS n FROM rooms").get<{ n: number }>()!.n;
    const messages = db.prepare("SELECT count(*) AS n FROM messages").get<{ n: number }>()!.n;
    return { rooms, messages };
  } catch (error) {
    throw new StoreOpenError(`cannot back up ${source} to ${file}: ${String((error as Error)?.message ?? error)}`);
  } finally {
    db?.close();
  }
}
