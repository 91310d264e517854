/**
 * The stores behind the hub: the memory store keeps nothing of its own; the
 * SQLite store groups appends into one transaction per flush, keeps seq and
 * epoch across a reopen, pages by seq, prunes to `history`, deletes forgotten
 * rooms, migrates old schemas and refuses what it cannot open, each with one
 * clear line. Runs on Bun's SQLite; the end-to-end suites cover node:sqlite.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSettings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import { defaultHubServices } from "../../lib/hub/hub_services.ts";
import type { Session } from "../../lib/hub/session.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";
import { openSqlite } from "../../lib/runtime/sqlite.ts";
import { backupDataDir } from "../../lib/store/backup.ts";
import { DB_FILE, openDataDir, StoreOpenError } from "../../lib/store/data_dir.ts";
import { MemoryStore } from "../../lib/store/memory_store.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../lib/store/schema.ts";
import type { SqliteStore } from "../../lib/store/sqlite_store.ts";
import { StoreUnavailable } from "../../lib/store/types.ts";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-store-test-"));
  dirs.push(dir);
  return dir;
}
async function open(dir: string, history = 100): Promise<SqliteStore> {
  const store = await openDataDir(dir, { history });
  stores.push(store);
  return store;
}
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Appends `texts` to `room` as the hub does: the store gives the seq, the caller advances it. */
function appendAll(store: SqliteStore | MemoryStore, room: { name: string; seq: number; epoch: string }, texts: string[]) {
  return texts.map((text, i) => {
    const msg = store.append(room, "ann", text, 1000 + i);
    room.seq = msg.seq;
    return msg;
  });
}
const texts = (n: number, prefix = "m") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe("memory store", () => {
  test("hands out the next seq and keeps nothing of its own", () => {
    const store = new MemoryStore();
    const room = { name: "ops", seq: 41, epoch: "e" };
    expect(store.append(room, "ann", "hi", 5)).toEqual({ type: "msg", room: "ops", from: "ann", text: "hi", seq: 42, ts: 5 });
    expect(store.page("ops", { limit: 10 })).toEqual([]);
    expect(store.rooms(10)).toEqual([]);
    expect(store.durable).toBe(false);
  });
});

describe("sqlite store", () => {
  test("messages reach the database only at flush, in one batch, and survive a reopen with seq and epoch", async () => {
    const dir = tempDir();
    let store = await open(dir);
    const room = { name: "ops", seq: 0, epoch: "ep1" };
    appendAll(store, room, texts(3));
    expect(store.pendingCount).toBe(3);
    const peek = await openSqlite(join(dir, DB_FILE));
    expect(peek.prepare("SELECT count(*) AS n FROM messages").get<{ n: number }>()!.n).toBe(0);
    expect(store.flush()).toBe(true);
    expect(peek.prepare("SELECT count(*) AS n FROM messages").get<{ n: number }>()!.n).toBe(3);
    peek.close();
    store.close();
    store = await open(dir);
    expect(store.rooms(100)).toEqual([{ name: "ops", seq: 3, epoch: "ep1" }]);
    expect(store.page("ops", { limit: 50 }).map((m) => [m.seq, m.text])).toEqual([[1, "m1"], [2, "m2"], [3, "m3"]]);
  });

  test("one flush of many messages over several rooms stores each once, in order, with its room's seq", async () => {
    const dir = tempDir();
    let store = await open(dir);
    const rooms = [{ name: "a", seq: 0, epoch: "ea" }, { name: "b", seq: 0, epoch: "eb" }, { name: "c", seq: 0, epoch: "ec" }];
    // 37 messages interleaved over 3 rooms: more than one multi-row INSERT, and a remainder.
    for (let i = 0; i < 37; i++) {
      const room = rooms[i % 3];
      room.seq = store.append(room, "ann", `t${i}`, 1000 + i).seq;
    }
    expect(store.flush()).toBe(true);
    store.close();
    store = await open(dir);
    expect(store.rooms(10).sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: "a", seq: 13, epoch: "ea" },
      { name: "b", seq: 12, epoch: "eb" },
      { name: "c", seq: 12, epoch: "ec" },
    ]);
    const b = store.page("b", { after: 0, limit: 50 });
    expect(b.map((m) => m.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(b.map((m) => m.text)).toEqual(Array.from({ length: 12 }, (_, i) => `t${i * 3 + 1}`));
  });

  test("pages: newest, before, after and a range, at the edges; an unknown room has nothing", async () => {
    const store = await open(tempDir());
    appendAll(store, { name: "ops", seq: 0, epoch: "e" }, texts(10));
    const seqs = (q: Parameters<SqliteStore["page"]>[1]) => store.page("ops", q).map((m) => m.seq);
    expect(seqs({ limit: 3 })).toEqual([8, 9, 10]);
    expect(seqs({ before: 5, limit: 3 })).toEqual([2, 3, 4]);
    expect(seqs({ before: 2, limit: 3 })).toEqual([1]);
    expect(seqs({ before: 1, limit: 3 })).toEqual([]);
    expect(seqs({ after: 7, limit: 5 })).toEqual([8, 9, 10]);
    expect(seqs({ after: 10, limit: 5 })).toEqual([]);
    expect(seqs({ after: 0, limit: 2 })).toEqual([1, 2]);
    expect(seqs({ after: 2, before: 6, limit: 10 })).toEqual([3, 4, 5]);
    expect(store.page("nowhere", { limit: 5 })).toEqual([]);
    expect(store.page("ops", { limit: 1 })[0]).toEqual({ type: "msg", room: "ops", from: "ann", text: "m10", seq: 10, ts: 1009 });
  });

  test("keeps only the last `history` messages of each room, pruning as it goes", async () => {
    const store = await open(tempDir(), 5);
    const room = { name: "ops", seq: 0, epoch: "e" };
    appendAll(store, room, texts(7));
    store.flush();
    appendAll(store, room, texts(5, "n"));
    store.flush();
    expect(store.page("ops", { limit: 100 }).map((m) => m.text)).toEqual(["n1", "n2", "n3", "n4", "n5"]);
    expect(store.rooms(10)[0].seq).toBe(12);
  });

  test("a forgotten room is deleted with its messages; rooms past the limit go least recently active first", async () => {
    const dir = tempDir();
    let store = await open(dir);
    for (const [i, name] of ["a", "b", "c", "d"].entries()) {
      store.append({ name, seq: 0, epoch: name }, "ann", "x", 100 * (i + 1));
    }
    store.flush();
    store.forget("b");
    expect(store.page("b", { limit: 5 })).toEqual([]);
    store.close();
    store = await open(dir);
    expect(store.rooms(2).map((r) => r.name)).toEqual(["c", "d"]);
    store.close();
    store = await open(dir);
    expect(store.rooms(10).map((r) => r.name)).toEqual(["c", "d"]);
    expect(store.page("a", { limit: 5 })).toEqual([]);
  });

  test("a hub on a reopened store resumes the room: same epoch, seq goes on, since gets exactly what followed", async () => {
    const dir = tempDir();
    const settings = { ...defaultSettings(), history_on_join: 2, rate_per_s: 0 };
    const got: ServerFrame[] = [];
    const sink: HubSink<null> = {
      send: (_: Session<null>, frame: ServerFrame) => void got.push(frame),
      broadcast: (to: Iterable<Session<null>>, frame: ServerFrame) => {
        for (const _ of to) got.push(frame);
      },
      close: () => {},
    };
    let store = await open(dir, settings.history);
    let hub = new Hub<null>(settings, "t", sink, { ...defaultHubServices(), roomLog: store });
    let s = hub.attach(null, 0);
    hub.handle(s, { type: "hello", nick: "ann" }, 0);
    for (let i = 1; i <= 300; i++) hub.handle(s, { type: "msg", room: "lobby", text: `t${i}` }, i);
    store.flush();
    const epoch = (got.find((f) => f.type === "room") as { epoch: string }).epoch;
    store.close();
    got.length = 0;
    store = await open(dir, settings.history);
    hub = new Hub<null>(settings, "t", sink, { ...defaultHubServices(), roomLog: store });
    hub.restoreRooms(store.rooms(100));
    s = hub.attach(null, 0);
    hub.handle(s, { type: "hello", nick: "ann" }, 0);
    const plain = got.find((f) => f.type === "room") as { seq: number; epoch: string; history: { seq: number }[] };
    expect([plain.seq, plain.epoch, plain.history.map((m) => m.seq)]).toEqual([300, epoch, [299, 300]]);
    hub.handle(s, { type: "msg", room: "lobby", text: "after" }, 1);
    got.length = 0;
    // Older than the in-memory cache reaches: answered from the database, in the snapshot up to its
    // byte cap, and by history pages for the rest.
    hub.handle(s, { type: "join", room: "lobby", since: 10 }, 2);
    const snapshot = got[0] as { seq: number; history: { seq: number; text: string }[]; more?: boolean };
    expect(snapshot.seq).toBe(301);
    const seqs = snapshot.history.map((m) => m.seq);
    for (let more = snapshot.more === true; more;) {
      got.length = 0;
      hub.handle(s, { type: "history", room: "lobby", after: seqs.at(-1)!, limit: 100 }, 3);
      const page = got[0] as { msgs: { seq: number }[]; more: boolean };
      seqs.push(...page.msgs.map((m) => m.seq));
      more = page.more;
    }
    expect(seqs).toEqual(Array.from({ length: 291 }, (_, i) => i + 11));
  });

  test("a store that cannot write refuses appends with unavailable and a retry time", async () => {
    const store = await open(tempDir());
    // Simulate the state a failed commit leaves: no reserve left, writes refused.
    (store as unknown as { db: { exec(sql: string): void } }).db.exec("PRAGMA query_only = ON");
    store.append({ name: "ops", seq: 0, epoch: "e" }, "ann", "x", 1);
    expect(store.flush()).toBe(false);
    expect(store.unavailable).toBe(true);
    expect(() => store.append({ name: "ops", seq: 1, epoch: "e" }, "ann", "y", 2)).toThrow(StoreUnavailable);
    (store as unknown as { db: { exec(sql: string): void } }).db.exec("PRAGMA query_only = OFF");
    // The held batch commits once writes work again.
    expect(store.flush()).toBe(true);
    expect(store.page("ops", { limit: 5 }).map((m) => m.text)).toEqual(["x"]);
  });
});

describe("opening a data directory", () => {
  test("an older schema is migrated on open and keeps its data", async () => {
    const dir = tempDir();
    const db = await openSqlite(join(dir, DB_FILE));
    db.exec(MIGRATIONS[0]);
    db.exec("PRAGMA user_version = 1");
    db.exec("INSERT INTO rooms (id, name, epoch, seq) VALUES (1, 'old', 'e0', 1)");
    db.exec("INSERT INTO messages VALUES (1, 1, 5, 'ann', 'from v1')");
    db.close();
    const store = await open(dir);
    expect(store.rooms(10)).toEqual([{ name: "old", seq: 1, epoch: "e0" }]);
    expect(store.page("old", { limit: 5 }).map((m) => m.text)).toEqual(["from v1"]);
    expect(store.db.prepare("PRAGMA user_version").get<{ user_version: number }>()!.user_version).toBe(SCHEMA_VERSION);
  });

  test("a newer schema, a file that is not a database, and a directory that cannot be made are refused in one line", async () => {
    const newer = tempDir();
    const db = await openSqlite(join(newer, DB_FILE));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const refusal = (dir: string) => openDataDir(dir, { history: 10 }).then(() => "opened", (e) => e);
    const a = await refusal(newer);
    expect(a).toBeInstanceOf(StoreOpenError);
    expect(a.message).toContain(`schema version ${SCHEMA_VERSION + 1}, newer than this tcpchat understands (${SCHEMA_VERSION})`);
    const corrupt = tempDir();
    writeFileSync(join(corrupt, DB_FILE), "this is not a database, just text ".repeat(200));
    const b = await refusal(corrupt);
    expect(b.message).toContain("is not a tcpchat database or is damaged");
    const blocked = tempDir();
    writeFileSync(join(blocked, "file"), "x");
    const c = await refusal(join(blocked, "file", "data"));
    expect(c.message).toContain("cannot create data directory");
    for (const e of [a, b, c]) expect(e.message).not.toContain("\n");
  });

  test("backup copies a consistent database that opens as a data directory of its own", async () => {
    const dir = tempDir();
    const store = await open(dir);
    appendAll(store, { name: "ops", seq: 0, epoch: "e" }, texts(4));
    store.flush();
    const target = tempDir();
    expect(await backupDataDir(dir, join(target, DB_FILE))).toEqual({ rooms: 1, messages: 4 });
    await expect(backupDataDir(dir, join(target, DB_FILE))).rejects.toThrow("already exists");
    const restored = await open(target);
    expect(restored.page("ops", { limit: 10 }).map((m) => m.text)).toEqual(texts(4));
  });
});

describe("sqlite store size", () => {
  test("pruned messages' pages go back to the file system: the file stays near what retention keeps", async () => {
    const store = await open(tempDir(), 50);
    const room = { name: "ops", seq: 0, epoch: "e" };
    const pages = () => store.db.prepare("PRAGMA page_count").get<{ page_count: number }>()!.page_count;
    for (let i = 0; i < 40; i++) {
      appendAll(store, room, texts(100, "x".repeat(400)));
      store.flush();
    }
    const kept = pages();
    // A burst that retention then cuts back (history lowered live, as a reload does).
    store.settings.history = 5000;
    for (let i = 0; i < 40; i++) {
      appendAll(store, room, texts(100, "y".repeat(400)));
      store.flush();
    }
    const grown = pages();
    store.settings.history = 50;
    appendAll(store, room, ["last"]);
    store.flush();
    const free = store.db.prepare("PRAGMA freelist_count").get<{ freelist_count: number }>()!.freelist_count;
    expect(free).toBeGreaterThan(200);
    store.reclaim();
    expect(grown).toBeGreaterThan(kept * 5);
    expect(pages()).toBeLessThan(kept * 2);
    expect(store.page("ops", { limit: 100 }).length).toBe(50);
  });
});
