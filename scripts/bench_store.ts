/**
 * What a data directory costs as it fills: sends `--messages` (default 1
 * million) messages over `--rooms` (default 1,000) rooms through a real server
 * on a fresh data directory, then reports the server's RSS, the database's
 * size, and the start-up time and RSS of a server started on the full
 * directory (interleaved with `--memory` starts, for comparison). Start-up
 * must not read the messages, and RSS must not grow with what is stored.
 *
 *   npx bun scripts/bench_store.ts [--runtime bun|deno|node] [--messages 1000000] [--rooms 1000] [--memory]
 *
 * @module
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TestClient } from "../tests/support/chat_client.ts";
import { startChatServer } from "../tests/support/chat_server.ts";
import type { RuntimeName } from "../tests/support/runtimes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runtime: { type: "string", default: "bun" },
    messages: { type: "string", default: "1000000" },
    rooms: { type: "string", default: "1000" },
    clients: { type: "string", default: "10" },
    starts: { type: "string", default: "3" },
    // Send the same load to a --memory server instead (for comparing RSS; nothing is stored).
    memory: { type: "boolean", default: false },
  },
});
const runtime = values.runtime as RuntimeName;
const total = Number(values.messages);
const roomCount = Number(values.rooms);
const clientCount = Number(values.clients);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const dir = mkdtempSync(join(tmpdir(), "tcpchat-bench-store-"));
const flags = ["--rate-per-s", "0", "--default-room", "", "--max-pending", "64MiB"];

try {
  const server = await startChatServer(runtime, [...flags, ...(values.memory ? ["--memory"] : ["--data-dir", dir])]);
  const rssStart = server.rssBytes();
  const clients = await Promise.all(Array.from({ length: clientCount }, (_, i) => TestClient.register(server.port, `f${i}`, { defaultRoom: null })));
  // Each client owns an equal share of the rooms and is their only member: the cost measured is storing, not fan-out.
  const roomsOf = (i: number) => Array.from({ length: Math.ceil(roomCount / clientCount) }, (_, k) => `r${i + k * clientCount}`).filter((r) => Number(r.slice(1)) < roomCount);
  await Promise.all(clients.map(async (c, i) => {
    for (const room of roomsOf(i)) await c.request({ type: "join", room }, 10_000);
  }));
  const started = performance.now();
  let peakRss = rssStart;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, server.rssBytes())), 250);
  const perClient = Math.ceil(total / clientCount);
  await Promise.all(clients.map(async (c, i) => {
    const rooms = roomsOf(i);
    const window = 500;
    for (let sent = 0; sent < perClient;) {
      const base = c.lines.length;
      const n = Math.min(window, perClient - sent);
      let batch = "";
      for (let k = 0; k < n; k++, sent++) batch += JSON.stringify({ type: "msg", room: rooms[sent % rooms.length], text: `message ${sent} of ${c} with some ordinary chat text` }) + "\n";
      c.send(batch);
      while (c.lines.length < base + n) await new Promise((resolve) => setTimeout(resolve, 1));
      c.lines.length = 0;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const rssFull = server.rssBytes();
  for (const c of clients) c.destroy();
  await server.stop();
  const dbBytes = readdirSync(dir).filter((f) => f.startsWith("tcpchat.db")).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  console.log(`${runtime}${values.memory ? " --memory" : ""}: stored ${total} messages over ${roomCount} rooms in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s)`);
  console.log(`RSS: ${mib(rssStart)} MiB at start, ${mib(peakRss)} MiB peak while storing, ${mib(rssFull)} MiB with everything stored; database ${mib(dbBytes)} MiB`);
  // Start-up: time until the port accepts (the "listening" line), on the full directory and in memory, interleaved.
  const times: Record<string, number[]> = { data: [], memory: [] };
  const rss: Record<string, number[]> = { data: [], memory: [] };
  for (let i = 0; i < Number(values.starts); i++) {
    for (const mode of ["memory", "data"] as const) {
      const t0 = performance.now();
      const s = await startChatServer(runtime, [...flags, ...(mode === "data" ? ["--data-dir", dir] : ["--memory"])]);
      times[mode].push(performance.now() - t0);
      rss[mode].push(s.rssBytes());
      await s.stop();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const mode of ["memory", "data"]) {
    console.log(`start-up ${mode === "data" ? `with ${total} messages` : "--memory"}: median ${median(times[mode]).toFixed(0)} ms, RSS ${mib(median(rss[mode]))} MiB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
