/**
 * Allocation and GC-pause profile of the chat server (issue 15): figures that
 * do not depend on how loaded the machine is, unlike wall-clock latency.
 *
 * For each runtime, starts `tcpchat serve` (rate limits and the default room
 * off) with the engine's GC log on, drives it with `tcpchat bench` (the
 * `latency` scenario: one publisher at a fixed rate and 100 subscribers, then
 * one publisher and one subscriber), and reads the server's GC log between
 * the start and the end of each bench run:
 *
 * - node, deno (V8, `--trace-gc-nvp`): each GC line's `allocated=` (bytes of
 *   JS heap objects allocated since the previous GC) and `pause=` (ms).
 *   Typed-array backing stores live outside the JS heap and are not counted.
 * - bun (JavaScriptCore, `BUN_JSC_logGC=1`): each collection's heap size at
 *   its start minus the size the previous one left (an estimate of bytes
 *   allocated in between), and each `p=` pause (ms).
 *
 * Reported per bench run: bytes allocated per frame the server received and
 * per message it delivered, and the pauses (count, p50, p99, max). Each
 * runtime gets one unmeasured warm-up run first so that JIT compilation is
 * not counted. Set-up of the bench's connections is inside the window (about
 * 100 connections against hundreds of thousands of deliveries).
 *
 * Usage: `npm run alloc -- [--runtimes node,deno,bun] [--subs 100,1] [--rate 1000]
 *   [--duration 5s] [--repeat 3] [--young-mb 1] [--json]`, or `--where` for allocation sites.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { binPath, DEFAULT_DENO_FLAGS, REPO_ROOT, type ServerProcess, spawnServer } from "../tests/support/runtimes.ts";

type ProfiledRuntime = "node" | "deno" | "bun";

const { values } = parseArgs({
  options: {
    runtimes: { type: "string", default: "node,deno,bun" },
    subs: { type: "string", default: "100,1" },
    rate: { type: "string", default: "1000" },
    duration: { type: "string", default: "5s" },
    repeat: { type: "string", default: "3" },
    "young-mb": { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    where: { type: "boolean", default: false },
    top: { type: "string", default: "30" },
  },
});

/** One collection read from the server's GC log. */
interface GcEvent {
  /** Bytes allocated since the previous collection (estimate on bun). */
  allocated: number;
  /** Pauses of this collection, ms (several for JSC's incremental phases). */
  pauses: number[];
}

/** What one measured bench run gave. */
interface Profile {
  runtime: ProfiledRuntime;
  subs: number;
  rate: number;
  frames: number;
  deliveries: number;
  allocatedBytes: number;
  bytesPerFrame: number;
  bytesPerDelivery: number;
  /** Lowest and highest B/frame over the repeats (the figure above is their median). */
  bytesPerFrameRange: [number, number];
  gcs: number;
  pauseP50Ms: number;
  pauseP99Ms: number;
  pauseMaxMs: number;
  pauseTotalMs: number;
  /** Every pause, ms (emptied in the report). */
  pauses: number[];
}

/** Parses V8 `--trace-gc-nvp` lines. */
export function parseV8(lines: string[]): GcEvent[] {
  const events: GcEvent[] = [];
  for (const line of lines) {
    // Node prints `pause=1.2 ... allocated=123`, Deno's V8 `"pause":1.2,... "allocated":123`.
    const pause = /\bpause"?[=:]([\d.]+)/.exec(line);
    if (!pause) continue;
    const allocated = /\ballocated"?[=:](\d+)/.exec(line);
    events.push({ allocated: allocated ? Number(allocated[1]) : 0, pauses: [Number(pause[1])] });
  }
  return events;
}

/**
 * Parses JSC `logGC` records (`START <kind> <before>kb => ...Collection ...
 * p=<ms> ... => <after>kb, p=<ms> ... END]`) in `text`, returning those that
 * start at or after `from`; `allocated` is this start's size minus the
 * previous record's end size.
 */
export function parseJsc(text: string, from: number): GcEvent[] {
  const events: GcEvent[] = [];
  const record = /START \w+ (\d+)kb => \w+Collection([\s\S]*?)=> (\d+)kb, ([\s\S]*?)END\]/g;
  let previousEndKb: number | undefined;
  for (let m = record.exec(text); m !== null; m = record.exec(text)) {
    const beforeKb = Number(m[1]);
    const pauses = [...(m[2] + m[4]).matchAll(/\bp=([\d.]+)ms/g)].map((p) => Number(p[1]));
    if (m.index >= from && previousEndKb !== undefined) {
      events.push({ allocated: Math.max(0, beforeKb - previousEndKb) * 1024, pauses });
    }
    previousEndKb = Number(m[3]);
  }
  return events;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Runs `tcpchat bench --json` (under Bun) and returns its parsed report. */
function bench(port: number, subs: number, rate: number, duration: string, warmup: string): Promise<{
  totals: { sent: number; deliveries: number };
}> {
  const argv = [
    binPath("bun"),
    "main.ts",
    "bench",
    `127.0.0.1:${port}`,
    "--scenario",
    "latency",
    "--subs",
    String(subs),
    "--rate",
    String(rate),
    "--duration",
    duration,
    "--warmup",
    warmup,
    "--json",
    "-q",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`bench exited ${code}: ${err}`));
      resolve(JSON.parse(out));
    });
  });
}

/**
 * V8 prints its GC lines through C stdio, which a pipe makes fully buffered:
 * 4 KiB chunks would split lines and the server's own `listening` line would
 * land inside one. Line buffering keeps lines whole.
 */
const LINE_BUFFERED = ["stdbuf", "-oL"];

/**
 * V8 flags: the GC log, and a young generation capped at `--young-mb` MB
 * (0: V8's default). A GC's `allocated` is exact, but a run only sees whole
 * GCs: with V8's default young generation (up to 16 MB or more) a 1×1 run has
 * three or four, and its figure jumps by a quarter with one GC more or less.
 * At 1 MB the error is about 1 MB per run; pauses are then those of the
 * smaller young generation (more, shorter scavenges).
 */
function v8Flags(): string[] {
  const young = Number(values["young-mb"]);
  return ["--trace-gc-nvp", ...(young > 0 ? [`--max-semi-space-size=${young}`] : [])];
}

/** Starts the server under `runtime` with its GC log on. */
function startServer(runtime: ProfiledRuntime): Promise<ServerProcess> {
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--rate-per-s", "0", "--default-room", "", "--log-level", "warning"];
  switch (runtime) {
    case "node":
      // `spawnServer` puts `prefix` before `node <bundle>`: this shell slips the V8 flag in after node.
      return spawnServer("node", "main.ts", args, {
        prefix: [...LINE_BUFFERED, "sh", "-c", `exec "$0" ${v8Flags().join(" ")} "$@"`],
      });
    case "deno":
      return spawnServer("deno", "main.ts", args, {
        denoFlags: [...DEFAULT_DENO_FLAGS, `--v8-flags=${v8Flags().join(",")}`],
        prefix: LINE_BUFFERED,
      });
    case "bun":
      return spawnServer("bun", "main.ts", args, { env: { BUN_JSC_logGC: "1" } });
  }
}

/**
 * `--repeat` measured runs against a warm server: the median run's
 * allocations (the machine's load changes how writes batch, so single runs
 * vary), the pauses of all runs together.
 */
async function profile(server: ServerProcess, runtime: ProfiledRuntime, subs: number): Promise<Profile> {
  const runs: Profile[] = [];
  for (let i = 0; i < Number(values.repeat); i++) runs.push(await profileOnce(server, runtime, subs));
  const byBytes = [...runs].sort((a, b) => a.bytesPerFrame - b.bytesPerFrame);
  const median = byBytes[Math.floor((byBytes.length - 1) / 2)]!;
  const pauses = runs.flatMap((r) => r.pauses).sort((a, b) => a - b);
  return {
    ...median,
    bytesPerFrameRange: [byBytes[0]!.bytesPerFrame, byBytes.at(-1)!.bytesPerFrame],
    gcs: runs.reduce((sum, r) => sum + r.gcs, 0),
    pauseP50Ms: round3(percentile(pauses, 0.5)),
    pauseP99Ms: round3(percentile(pauses, 0.99)),
    pauseMaxMs: round3(pauses.at(-1) ?? 0),
    pauseTotalMs: round3(pauses.reduce((a, b) => a + b, 0)),
    pauses: [],
  };
}

/** One measured bench run against a warm server. */
async function profileOnce(server: ServerProcess, runtime: ProfiledRuntime, subs: number): Promise<Profile> {
  const rate = Number(values.rate);
  const stream = runtime === "bun" ? "stderr" : "stdout";
  const text = () => (stream === "stderr" ? server.stderr() : server.stdout());
  const fromLine = server.lines(stream).length;
  const fromChar = text().length;
  const result = await bench(server.port, subs, rate, values.duration!, "1s");
  // The server's last writes and GC lines settle.
  await new Promise((r) => setTimeout(r, 300));
  const events = runtime === "bun" ? parseJsc(text(), fromChar) : parseV8(server.lines(stream).slice(fromLine));
  const allocatedBytes = events.reduce((sum, e) => sum + e.allocated, 0);
  const pauses = events.flatMap((e) => e.pauses).sort((a, b) => a - b);
  const frames = result.totals.sent;
  // Every subscriber and the publisher itself get each message.
  const deliveries = result.totals.sent * (subs + 1);
  return {
    runtime,
    subs,
    rate,
    frames,
    deliveries,
    allocatedBytes,
    bytesPerFrame: Math.round(allocatedBytes / frames),
    bytesPerDelivery: Math.round(allocatedBytes / deliveries),
    bytesPerFrameRange: [0, 0],
    gcs: events.length,
    pauseP50Ms: round3(percentile(pauses, 0.5)),
    pauseP99Ms: round3(percentile(pauses, 0.99)),
    pauseMaxMs: round3(pauses.at(-1) ?? 0),
    pauseTotalMs: round3(pauses.reduce((a, b) => a + b, 0)),
    pauses,
  };
}

/** A node of V8's sampling heap profile. */
interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/**
 * `--where`: the server under node or deno with the inspector on, V8's
 * sampling heap profiler counting every sampled allocation (also those the
 * GC already freed) during one bench run; prints the allocation sites, by
 * bytes per received frame, biggest first.
 */
async function where(runtime: "node" | "deno", subs: number): Promise<void> {
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--rate-per-s", "0", "--default-room", "", "--log-level", "warning"];
  const server = runtime === "node"
    ? await spawnServer("node", "main.ts", args, { prefix: ["sh", "-c", 'exec "$0" --inspect=127.0.0.1:0 "$@"'] })
    : await spawnServer("deno", "main.ts", args, { denoFlags: [...DEFAULT_DENO_FLAGS, "--inspect=127.0.0.1:0"] });
  try {
    const url = /ws:\/\/\S+/.exec(await server.waitForLine(/ws:\/\//, { stream: "stderr" }))![0];
    const ws = new WebSocket(url);
    await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
    let id = 0;
    const waiting = new Map<number, (result: unknown) => void>();
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      waiting.get(message.id)?.(message.result);
    };
    const call = (method: string, params: object = {}) =>
      new Promise<unknown>((resolve) => {
        waiting.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await bench(server.port, subs, Number(values.rate), "2s", "1s"); // JIT warm-up
    await call("HeapProfiler.enable");
    await call("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const result = await bench(server.port, subs, Number(values.rate), values.duration!, "1s");
    const { profile } = await call("HeapProfiler.stopSampling") as { profile: { head: SamplingNode } };
    ws.close();
    const sites = new Map<string, number>();
    const walk = (node: SamplingNode, parent: string) => {
      const frame = node.callFrame;
      const file = frame.url.replace(/^.*\//, "");
      const name = frame.functionName || "(anonymous)";
      const site = file ? `${name} ${file}:${frame.lineNumber + 1}` : name;
      if (node.selfSize > 0) {
        const key = `${site}  <- ${parent}`;
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      }
      for (const child of node.children) walk(child, site);
    };
    walk(profile.head, "");
    const frames = result.totals.sent;
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    console.log(`${runtime} 1×${subs}: ${Math.round(total / frames)} B sampled per received frame; top sites:`);
    for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
      console.log(`${String(Math.round(bytes / frames)).padStart(7)} B/frame  ${site}`);
    }
  } finally {
    await server.stop();
  }
}

if (values.where) {
  for (const runtime of values.runtimes!.split(",")) {
    if (runtime === "node" || runtime === "deno") for (const subs of values.subs!.split(",")) await where(runtime, Number(subs));
  }
  process.exit(0);
}

const runtimes = values.runtimes!.split(",").map((r) => r.trim()) as ProfiledRuntime[];
const subsList = values.subs!.split(",").map(Number);
const profiles: Profile[] = [];
for (const runtime of runtimes) {
  const server = await startServer(runtime);
  try {
    await bench(server.port, subsList[0]!, Number(values.rate), "2s", "1s"); // JIT warm-up, not counted
    for (const subs of subsList) {
      const p = await profile(server, runtime, subs);
      profiles.push(p);
      if (!values.json) console.error(`${runtime} 1×${subs}: ${p.bytesPerFrame} B/frame, ${p.gcs} GCs`);
    }
  } finally {
    await server.stop();
  }
}

if (values.json) {
  console.log(JSON.stringify(profiles, null, 2));
} else {
  console.log(
    `rate ${values.rate} msgs/s, ${values.repeat} runs of ${values.duration}: median run (B/frame min–max); pauses of all runs\n`,
  );
  console.log("| runtime | fan-out | frames in | deliveries | B/frame in | B/delivery | GCs | pause p50 ms | p99 ms | max ms | total ms |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const p of profiles) {
    console.log(
      `| ${p.runtime} | 1×${p.subs} | ${p.frames} | ${p.deliveries} | ${p.bytesPerFrame} (${p.bytesPerFrameRange.join("–")}) | ${p.bytesPerDelivery} | ${p.gcs} | ${p.pauseP50Ms} | ${p.pauseP99Ms} | ${p.pauseMaxMs} | ${p.pauseTotalMs} |`,
    );
  }
}
