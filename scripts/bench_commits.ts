/**
 * How long the event loop waits in the store's commits when each message is
 * its own commit (the shared kit's scenario F: one publisher, one
 * subscriber, 1000 msgs/s). Opens a fresh data directory, appends and
 * flushes one 100-byte message per turn, a turn every `--gap-ms`, and prints
 * the flush times (p50, p99, p99.9, max), how many took over 1 ms, WAL pages
 * per commit, the WAL file's size, and the checkpoints the worker took;
 * then how long explicit checkpoints take on this disk. Measures the store
 * alone, in process, so a loaded machine moves it less than a socket run.
 *
 * ```
 * npx bun scripts/bench_commits.ts [--commits 5000] [--gap-ms 1]
 * deno run -A scripts/bench_commits.ts --commits 5000
 * ```
 *
 * @module
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDataDir } from "../lib/store/data_dir.ts";

const { values } = parseArgs({
  args: (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2),
  options: { commits: { type: "string", default: "5000" }, "gap-ms": { type: "string", default: "1" } },
});
const commits = Number(values.commits);
const gapMs = Number(values["gap-ms"]);

const dir = mkdtempSync(join(tmpdir(), "tcpchat-bench-commits-"));
const store = await openDataDir(dir, { history: 10_000 });
const wal = join(dir, "tcpchat.db-wal");
const walSize = () => {
  try {
    return statSync(wal).size;
  } catch {
    return 0;
  }
};
const room = { name: "lobby", seq: 0, epoch: "e" };
const text = "x".repeat(100);
const times: number[] = [];
let grewBy = 0;
let grew = 0;
for (let i = 0; i < commits; i++) {
  const before = walSize();
  room.seq = store.append(room, "alice", text, Date.now()).seq;
  const t0 = performance.now();
  store.flush();
  times.push(performance.now() - t0);
  const after = walSize();
  if (after > before) {
    grewBy += after - before;
    grew++;
  }
  if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
}
times.sort((a, b) => a - b);
const us = (q: number) => Math.round(times[Math.floor(q * (times.length - 1))] * 1000);
const checkpointer = store.options.checkpointer;
console.log(
  `${commits} one-message commits, ${gapMs} ms apart: flush p50 ${us(0.5)} us, p99 ${us(0.99)} us, ` +
    `p99.9 ${us(0.999)} us, max ${us(1)} us; over 1 ms: ${times.filter((t) => t > 1).length}`,
);
console.log(
  `WAL pages per commit (while it grew) ${(grewBy / Math.max(1, grew) / (4096 + 24)).toFixed(2)}; ` +
    `WAL now ${(walSize() / 1048576).toFixed(1)} MiB; worker checkpoints ${
      checkpointer ? JSON.stringify(checkpointer.scheduler.done) : "none (automatic, inside commits)"
    }`,
);
for (const mode of ["PASSIVE", "TRUNCATE"]) {
  for (let i = 0; i < 300; i++) {
    room.seq = store.append(room, "alice", text, Date.now()).seq;
    store.flush();
  }
  const t0 = performance.now();
  const row = store.db.prepare(`PRAGMA wal_checkpoint(${mode})`).get();
  console.log(`PRAGMA wal_checkpoint(${mode}) after 300 commits: ${(performance.now() - t0).toFixed(2)} ms ${JSON.stringify(row)}`);
}
store.close();
rmSync(dir, { recursive: true, force: true });
