/**
 * WAL checkpoints off the message path: the scheduler's decisions over a
 * fake clock (passive while commits come, at most every passiveEveryMs;
 * truncate once idle; restart when the WAL is too big; give the worker up
 * when it fails or hangs), and a real store whose commits never checkpoint
 * (automatic checkpoints off on its connection) while the worker's
 * checkpoints keep the WAL bounded and empty it once the store is idle.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointScheduler } from "../../lib/store/checkpoint_scheduler.ts";
import { DB_FILE, openDataDir } from "../../lib/store/data_dir.ts";
import type { SqliteStore } from "../../lib/store/sqlite_store.ts";

const policy = { passiveEveryMs: 250, idleMs: 1000, maxFrames: 1000, stuckMs: 30_000 };
const ok = (log: number) => ({ busy: 0, log, checkpointed: log });

describe("checkpoint scheduler", () => {
  test("commits get a passive checkpoint, at most one per interval and none while one is in flight", () => {
    const s = new CheckpointScheduler(policy);
    expect(s.next(0, 0)).toBeNull();
    expect(s.next(100, 5)).toBe("passive");
    expect(s.next(200, 9)).toBeNull(); // in flight
    s.answered(ok(20));
    expect(s.next(300, 12)).toBeNull(); // 200 ms since the last one started
    expect(s.next(350, 12)).toBe("passive");
    s.answered(ok(30));
    expect(s.next(700, 12)).toBeNull(); // nothing new, not idle long enough
  });

  test("an idle store gets one truncate, and another only after new commits", () => {
    const s = new CheckpointScheduler(policy);
    expect(s.next(100, 3)).toBe("passive");
    s.answered(ok(10));
    expect(s.next(1000, 3)).toBeNull();
    expect(s.next(1100, 3)).toBe("truncate");
    s.answered(ok(0));
    expect(s.next(5000, 3)).toBeNull();
    expect(s.next(5100, 4)).toBe("passive");
    s.answered(ok(4));
    expect(s.next(6100, 4)).toBe("truncate");
  });

  test("a truncate that met a commit is tried again", () => {
    const s = new CheckpointScheduler(policy);
    s.next(100, 1);
    s.answered(ok(3));
    expect(s.next(1100, 1)).toBe("truncate");
    s.answered({ busy: 1, log: 3, checkpointed: 3 });
    expect(s.next(1200, 1)).toBe("truncate");
    s.answered(ok(0));
    expect(s.next(2200, 1)).toBeNull();
  });

  test("a WAL past maxFrames under steady commits gets a restart, then passive again", () => {
    const s = new CheckpointScheduler(policy);
    let now = 0;
    let commits = 0;
    let kinds: string[] = [];
    let log = 0;
    for (let i = 0; i < 40; i++) {
      now += 100;
      commits += 100;
      log += 300; // no idle moment: the WAL only grows until something restarts it
      const kind = s.next(now, commits);
      if (kind === null) continue;
      kinds.push(kind);
      if (kind === "restart") log = 0;
      s.answered(ok(log));
    }
    expect(kinds).toContain("restart");
    kinds = kinds.slice(kinds.indexOf("restart") + 1);
    expect(kinds[0]).toBe("passive");
    expect(s.walFrames).toBeLessThan(policy.maxFrames + 3 * 300);
  });

  test("a checkpoint that fails on a full disk is tried again, and only the first failure in a row is reported", () => {
    const s = new CheckpointScheduler(policy);
    expect(s.next(100, 1)).toBe("passive");
    expect(s.errored()).toBe(true);
    expect(s.next(400, 1)).toBe("passive");
    expect(s.errored()).toBe(false);
    expect(s.next(700, 1)).toBe("passive");
    s.answered(ok(5));
    expect(s.gaveUp).toBe(false);
    expect(s.next(1000, 2)).toBe("passive");
    expect(s.errored()).toBe(true);
  });

  test("a worker that fails or stops answering is given up once", () => {
    const failing = new CheckpointScheduler(policy);
    failing.next(100, 1);
    expect(failing.failed()).toBe("fallback");
    expect(failing.gaveUp).toBe(true);
    expect(failing.next(5000, 2)).toBeNull();

    const hung = new CheckpointScheduler(policy);
    expect(hung.next(100, 1)).toBe("passive");
    expect(hung.next(20_000, 2)).toBeNull();
    expect(hung.next(30_100, 3)).toBe("fallback");
    expect(hung.next(40_000, 4)).toBeNull();
  });
});

describe("checkpoints on a worker thread", () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test("commits leave checkpoints to the worker, and the WAL is emptied once the store is idle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-ckpt-test-"));
    dirs.push(dir);
    const store = await openDataDir(dir, { history: 10_000 }, {}, true);
    stores.push(store);
    const checkpointer = store.options.checkpointer!;
    expect(checkpointer).toBeDefined();
    // The store's own connection never checkpoints inside a commit.
    expect(store.db.prepare("PRAGMA wal_autocheckpoint").get<{ wal_autocheckpoint: number }>()!.wal_autocheckpoint).toBe(0);
    const wal = () => statSync(join(dir, `${DB_FILE}-wal`)).size;

    const room = { name: "lobby", seq: 0, epoch: "e" };
    for (let i = 0; i < 600; i++) {
      room.seq = store.append(room, "ann", `message ${i} ${"x".repeat(100)}`, 1000 + i).seq;
      store.flush();
    }
    // 600 one-message commits: past SQLite's own 1000-page threshold, and still all in the WAL.
    expect(checkpointer.commits).toBe(600);
    const grown = wal();
    expect(grown).toBeGreaterThan(1000 * 4096);

    await checkpointer.tick(100);
    expect(checkpointer.scheduler.done.passive).toBe(1);
    expect(checkpointer.scheduler.walFrames).toBeGreaterThan(1000);
    expect(wal()).toBe(grown); // a passive checkpoint copies back, and leaves the file

    expect(checkpointer.tick(600)).toBeUndefined(); // no commits, not idle for long
    await checkpointer.tick(1200);
    expect(checkpointer.scheduler.done.truncate).toBe(1);
    expect(wal()).toBe(0);

    // Everything is still there, through the store's connection and after a reopen.
    expect(store.page("lobby", { limit: 1 })[0].seq).toBe(600);
    store.close();
    stores.pop();
    const again = await openDataDir(dir, { history: 10_000 }, {}, true);
    stores.push(again);
    expect(again.rooms(10)).toEqual([{ name: "lobby", seq: 600, epoch: "e" }]);
    expect(again.page("lobby", { after: 0, limit: 1000 }).length).toBe(600);
  });
});
