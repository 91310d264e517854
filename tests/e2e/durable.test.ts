/**
 * Durable state against the real server on every runtime: a restart (SIGTERM
 * or SIGKILL in the middle of a message storm) loses nothing acknowledged,
 * keeps seqs and epochs, and `join` with `since` resumes exactly; the data
 * directory's lock, bad directories and database files are refused at start
 * with one line and exit 2; rooms forgotten past max_rooms leave the store;
 * a backup taken while the server runs restores.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { commandFor, REPO_ROOT, type RuntimeName } from "../support/runtimes.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const root = mkdtempSync(join(tmpdir(), "tcpchat-durable-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `d${++dirCount}`);

const frames = (c: TestClient): Frame[] => c.lines.map((l) => JSON.parse(l));
/** `history` with a data directory and no setting: what a room keeps. */
const HISTORY = 10_000;

/** Runs `tcpchat ARGS` to its end under `runtime`. */
async function run(runtime: RuntimeName, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = await commandFor(runtime, "main.ts", args);
  return await new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The kept history of `room` from a fresh client (history default: 10,000 with a data directory). */
async function historyOf(port: number, room: string): Promise<Frame> {
  const c = await TestClient.register(port, `h${Math.random().toString(36).slice(2, 8)}`, { defaultRoom: null });
  // After a restart memory holds nothing yet: the snapshot says `more`, and the rest is paged from the store.
  const snap = await c.joinSince(room, 0);
  c.destroy();
  return snap;
}

describe.each(SERVER_RUNTIMES)("durable state (%s)", (runtime) => {
  const start = (dir: string, flags: string[] = []) =>
    startChatServer(runtime, ["--rate-per-s", "0", "--default-room", "", "--data-dir", dir, ...flags]);

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    test(`${signal} in the middle of a message storm: every acked message survives with its seq and epoch; since resumes exactly`, async () => {
      const dir = freshDir();
      let server: ChatServerProcess = await start(dir);
      const reader = await TestClient.register(server.port, "reader", { defaultRoom: null });
      const first = await reader.request({ type: "join", room: "storm" });
      const writers = await Promise.all([1, 2, 3].map((i) => TestClient.register(server.port, `w${i}`, { defaultRoom: null })));
      for (const w of writers) await w.request({ type: "join", room: "storm" });
      // Each writer keeps 20 messages in flight until the server goes away.
      let sent = 0;
      const pump = writers.map(async (w, i) => {
        let n = 0;
        while (!w.ended && n < 100_000) {
          const acked = w.lines.length;
          for (let k = 0; k < 20; k++) w.send({ type: "msg", room: "storm", text: `w${i}-${++n}`, id: `w${i}-${n}` });
          sent += 20;
          while (!w.ended && w.lines.length < acked + 20) await sleep(1);
        }
      });
      await sleep(400);
      server.signal(signal);
      await server.exited;
      await Promise.all(pump);
      const acks = writers.flatMap((w) => frames(w).filter((f) => f.type === "msg" && f.id !== undefined));
      expect(acks.length).toBeGreaterThan(50);
      const readerSeqs = frames(reader).filter((f) => f.type === "msg").map((f) => f.seq as number);
      const lastSeen = readerSeqs.at(-1) ?? 0;
      reader.destroy();
      for (const w of writers) w.destroy();

      server = await start(dir);
      try {
        const snap = await historyOf(server.port, "storm");
        expect(snap.epoch).toBe(first.epoch);
        const kept = new Map((snap.history as Frame[]).map((m) => [m.seq, m.text]));
        // History keeps the last HISTORY (a fast machine sends more than that before the kill).
        const firstKept = Math.max(1, snap.seq - HISTORY + 1);
        // Everything acked (and still kept) is there under the seq its ack carried.
        const checked = acks.filter((ack) => ack.seq >= firstKept);
        expect(checked.length).toBeGreaterThan(50);
        for (const ack of checked) expect([ack.seq, kept.get(ack.seq)]).toEqual([ack.seq, ack.text]);
        expect(Math.max(...acks.map((a) => a.seq as number))).toBeLessThanOrEqual(snap.seq);
        // No gaps: every kept seq up to the room's seq.
        expect((snap.history as Frame[]).map((m) => m.seq)).toEqual(
          Array.from({ length: snap.seq - firstKept + 1 }, (_, i) => firstKept + i),
        );
        expect(snap.seq).toBeLessThanOrEqual(sent);
        // The reader resumes from what it last saw: exactly the rest (that is kept), no gap, no duplicate.
        const back = await TestClient.register(server.port, "reader", { defaultRoom: null });
        const resumed = await back.joinSince("storm", lastSeen);
        const from = Math.max(lastSeen + 1, firstKept);
        expect((resumed.history as Frame[]).map((m) => m.seq)).toEqual(
          Array.from({ length: snap.seq - from + 1 }, (_, i) => from + i),
        );
        // The room goes on from there.
        const next = await back.request({ type: "msg", room: "storm", text: "after" });
        expect(next.seq).toBe(snap.seq + 1);
        back.destroy();
      } finally {
        await server.stop();
      }
    }, 30_000);
  }

  test("a second server on the same data directory refuses to start (exit 2); a kill -9 leaves no stale lock", async () => {
    const dir = freshDir();
    const server = await start(dir);
    const second = await run(runtime, ["serve", "--port", "0", "--data-dir", dir]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`data directory ${dir} is in use by another tcpchat server`);
    server.signal("SIGKILL");
    await server.exited;
    const again = await start(dir);
    await again.stop();
  }, 30_000);

  test("an uncreatable directory, a corrupt database and a newer schema: one clear line and exit 2", async () => {
    const blocker = join(freshDir());
    mkdirSync(blocker, { recursive: true });
    writeFileSync(join(blocker, "file"), "x");
    const corrupt = freshDir();
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, "tcpchat.db"), "not a database at all ".repeat(500));
    const newer = freshDir();
    const seed = await start(newer);
    await seed.stop();
    // Raise the schema version past what this build knows, as a newer tcpchat would have.
    const bump = await run("bun", ["backup", "--data-dir", newer, join(newer, "copy.db")]);
    expect(bump.code).toBe(0);
    const { Database } = await import("bun:sqlite");
    const db = new Database(join(newer, "tcpchat.db"));
    db.exec("PRAGMA user_version = 99");
    db.close();
    const cases: [string, string][] = [
      [join(blocker, "file", "data"), "cannot create data directory"],
      [corrupt, "is not a tcpchat database or is damaged"],
      [newer, "has schema version 99, newer than this tcpchat understands"],
    ];
    for (const [dir, message] of cases) {
      const result = await run(runtime, ["serve", "--port", "0", "--data-dir", dir]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain("    at ");
    }
  }, 30_000);

  test("rooms forgotten past max_rooms are deleted from the store; the rest come back after a restart", async () => {
    const dir = freshDir();
    let server = await start(dir, ["--max-rooms", "2"]);
    const c = await TestClient.register(server.port, "ann", { defaultRoom: null });
    for (const room of ["a", "b", "c"]) {
      await c.request({ type: "join", room });
      await c.request({ type: "msg", room, text: `in ${room}` });
      await c.request({ type: "leave", room });
    }
    c.destroy();
    await server.stop();
    server = await start(dir, ["--max-rooms", "2"]);
    try {
      const d = await TestClient.register(server.port, "ann", { defaultRoom: null });
      const list = await d.request({ type: "rooms" });
      expect((list.rooms as Frame[]).map((r) => [r.name, r.seq])).toEqual([["b", 1], ["c", 1]]);
      const a = await d.request({ type: "join", room: "a", since: 0 });
      expect([a.seq, a.history]).toEqual([0, []]);
      d.destroy();
    } finally {
      await server.stop();
    }
  }, 30_000);

  test("tcpchat backup copies the database while the server runs; the copy restores", async () => {
    const dir = freshDir();
    const server = await start(dir);
    try {
      const c = await TestClient.register(server.port, "ann", { defaultRoom: null });
      await c.request({ type: "join", room: "ops" });
      for (let i = 1; i <= 5; i++) await c.request({ type: "msg", room: "ops", text: `m${i}` });
      const file = join(root, `backup-${dirCount}.db`);
      const result = await run(runtime, ["backup", "--data-dir", dir, file]);
      expect([result.code, result.stdout.trim()]).toEqual([0, `backed up ${dir} to ${file}: 1 rooms, 5 messages`]);
      c.destroy();
      const restored = freshDir();
      mkdirSync(restored);
      cpSync(file, join(restored, "tcpchat.db"));
      const copy = await start(restored);
      try {
        const snap = await historyOf(copy.port, "ops");
        expect((snap.history as Frame[]).map((m) => m.text)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      } finally {
        await copy.stop();
      }
    } finally {
      await server.stop();
    }
  }, 30_000);
});
