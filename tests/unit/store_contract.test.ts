/**
 * The store contracts against every store implementation: memory, and
 * SQLite in a fresh data directory (the stores a server with `data_dir` runs).
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryAccountStore } from "../../lib/store/account_store.ts";
import { openDataDir } from "../../lib/store/data_dir.ts";
import { MemoryRoomStateStore } from "../../lib/store/room_state_store.ts";
import { SqliteAccountStore } from "../../lib/store/sqlite_account_store.ts";
import { SqliteRoomStateStore } from "../../lib/store/sqlite_room_state_store.ts";
import type { SqliteStore } from "../../lib/store/sqlite_store.ts";
import { accountStoreContract, roomStateStoreContract } from "../support/store_contract.ts";

accountStoreContract("memory", () => new MemoryAccountStore());
roomStateStoreContract("memory", () => new MemoryRoomStateStore());

const opened: { dir: string; store: SqliteStore }[] = [];
/** A message store in a fresh data directory, closed and removed after the suite. */
async function freshSqlite(): Promise<SqliteStore> {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-contract-"));
  const store = await openDataDir(dir, { history: 100 });
  opened.push({ dir, store });
  return store;
}
afterAll(() => {
  for (const { dir, store } of opened) {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

accountStoreContract("sqlite", async () => {
  const store = await freshSqlite();
  return new SqliteAccountStore(store.db, store);
});
roomStateStoreContract("sqlite", async () => {
  const store = await freshSqlite();
  return new SqliteRoomStateStore(store.db, store);
});
