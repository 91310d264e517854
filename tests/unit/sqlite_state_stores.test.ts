/**
 * How the SQLite account and room-state stores commit: room state rides the
 * message batch (on disk only once the batch is flushed, held through a
 * failed commit), accounts commit at once and are refused while the disk
 * cannot take writes, and a dropped account leaves no room operator behind.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite, type SqliteDb } from "../../lib/runtime/sqlite.ts";
import type { AccountRecord } from "../../lib/store/account_store.ts";
import { DB_FILE, openDataDir } from "../../lib/store/data_dir.ts";
import { SqliteAccountStore } from "../../lib/store/sqlite_account_store.ts";
import { SqliteRoomStateStore } from "../../lib/store/sqlite_room_state_store.ts";
import type { SqliteStore } from "../../lib/store/sqlite_store.ts";
import { StoreUnavailable } from "../../lib/store/types.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0).reverse()) done();
});

/** A data directory's store, its two state stores, and a second connection that sees only what is committed. */
async function open(): Promise<{ store: SqliteStore; accounts: SqliteAccountStore; rooms: SqliteRoomStateStore; reader: SqliteDb }> {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-state-test-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openDataDir(dir, { history: 100 });
  cleanup.push(() => store.close());
  const reader = await openSqlite(join(dir, DB_FILE), { readOnly: true });
  cleanup.push(() => reader.close());
  return { store, accounts: new SqliteAccountStore(store.db, store), rooms: new SqliteRoomStateStore(store.db, store), reader };
}

const committedTopic = (reader: SqliteDb, room: string) =>
  reader.prepare("SELECT topic FROM room_state WHERE room = ?").get<{ topic: string | null }>(room)?.topic;

const record = (key: string, name = key): AccountRecord => ({
  key,
  name,
  password: { algo: "scrypt", N: 1024, r: 8, p: 1, salt: "c2FsdA==", hash: "aGFzaA==" },
  created: 1,
});

const readOnly = (store: SqliteStore, on: boolean) => store.db.exec(`PRAGMA query_only = ${on ? "ON" : "OFF"}`);

describe("SQLite room state and accounts", () => {
  test("a room-state change commits with the message batch: not on disk before the flush, on disk after", async () => {
    const { store, rooms, reader } = await open();
    store.append({ name: "den", seq: 0, epoch: "e" }, "ada", "hello", 1);
    rooms.setTopic("den", { text: "hi", by: "ada", ts: 2 });
    rooms.addBan("den", { mask: "nick:eve", by: "ada", ts: 3, reason: "" });
    expect(committedTopic(reader, "den")).toBeUndefined();
    expect(store.flush()).toBe(true);
    expect(committedTopic(reader, "den")).toBe("hi");
    expect(reader.prepare("SELECT mask FROM room_bans").all()).toEqual([{ mask: "nick:eve" }]);
    expect(reader.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({ n: 1 });
  });

  test("a commit that fails holds room-state changes (flush says false) and commits them once writes work", async () => {
    const { store, rooms, reader } = await open();
    readOnly(store, true);
    rooms.setModes("den", { invite_only: true, key: "k", topic_lock: false });
    rooms.setTopic("den", { text: "held", by: "ada", ts: 2 });
    expect(store.flush()).toBe(false);
    expect(committedTopic(reader, "den")).toBeUndefined();
    readOnly(store, false);
    expect(store.flush()).toBe(true);
    expect(committedTopic(reader, "den")).toBe("held");
    expect(rooms.load("den")?.modes).toEqual({ invite_only: true, key: "k", topic_lock: false });
  });

  test("an account write is on disk before it answers, and refused with unavailable when the disk cannot take it", async () => {
    const { store, accounts, reader } = await open();
    expect(accounts.create(record("ada"))).toBe(true);
    expect(reader.prepare("SELECT name FROM accounts").all()).toEqual([{ name: "ada" }]);
    readOnly(store, true);
    const refused = accounts.create(record("bob"));
    expect(refused).toBeInstanceOf(Promise);
    expect(await (refused as Promise<unknown>).catch((e) => e)).toBeInstanceOf(StoreUnavailable);
    // While the message store refuses writes (a full disk), accounts do too, even once SQLite could.
    store.append({ name: "den", seq: 0, epoch: "e" }, "ada", "x", 1);
    expect(store.flush()).toBe(false);
    readOnly(store, false);
    expect(store.unavailable).toBe(true);
    expect(await (accounts.setPassword("ada", record("ada").password) as Promise<unknown>).catch((e) => e)).toBeInstanceOf(StoreUnavailable);
    expect(reader.prepare("SELECT count(*) AS n FROM accounts").get()).toEqual({ n: 1 });
  });

  test("deleting an account takes it out of every room's operators in the same commit", async () => {
    const { store, accounts, rooms, reader } = await open();
    accounts.create(record("ada", "Ada"));
    rooms.setOperator("den", "Ada", true);
    rooms.setOperator("lab", "Ada", true);
    rooms.setOperator("lab", "bob", true);
    // The queued operator rows are committed first, so the delete sees (and removes) them.
    expect(accounts.delete("ada")).toBe(true);
    expect(reader.prepare("SELECT room, account FROM room_operators").all()).toEqual([{ room: "lab", account: "bob" }]);
    expect(accounts.delete("ada")).toBe(false);
    expect(store.pendingCount).toBe(0);
  });
});
