/**
 * Memory per idle connection, broken down (issue 15). For each runtime (Bun,
 * Deno), starts `tcpchat serve` with `scripts/mem_probe.ts` preloaded and
 * reads the server's memory after a full GC in three states:
 *
 * 1. no client (after a warm-up round of connections, so lazy set-up is not counted);
 * 2. N raw TCP connections that have sent nothing: the runtime socket, the
 *    `Connection` with its splitter and queue, the unregistered `Session`;
 * 3. N clients registered (`hello`) and joined to 10 rooms, silent (the
 *    `tcpchat bench --scenario idle` load): adds nick maps, room members,
 *    crowd and account state.
 *
 * Per connection: RSS, JS heap and engine-external bytes, and on Bun the heap
 * objects by type. RSS includes allocator slack; kernel socket buffers are
 * not in RSS at all.
 *
 * Deno with `--snapshots`: V8 heap snapshots in each state, summed by kind
 * (`object:Connection`, `closure:...`), per connection. Snapshots inflate
 * RSS, so read RSS from a run without them.
 *
 * Usage: `npm run memory -- [--runtimes bun,deno] [--conns 2000] [--snapshots [--save-snapshots DIR]]`
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { binPath, DEFAULT_DENO_FLAGS, REPO_ROOT, type ServerProcess, spawnServer } from "../tests/support/runtimes.ts";

const { values } = parseArgs({
  options: {
    runtimes: { type: "string", default: "bun,deno" },
    conns: { type: "string", default: "2000" },
    json: { type: "boolean", default: false },
    /** Deno: also heap snapshots, by kind (they inflate RSS: read RSS from a run without). */
    snapshots: { type: "boolean", default: false },
    /** With --snapshots: also write each raw snapshot to this directory (base, raw, base2, registered .heapsnapshot) for a closer look. */
    "save-snapshots": { type: "string" },
  },
});
const N = Number(values.conns);
const PROBE = `${REPO_ROOT}/scripts/mem_probe.ts`;

/** One `MEMPROBE` line. */
interface Probe {
  rss: number;
  heapUsed: number;
  extra: number;
  types?: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(server: ServerProcess): Promise<Probe> {
  const from = server.lines("stderr").length;
  server.signal("SIGUSR1");
  const line = await server.waitForLine(/^MEMPROBE /, { stream: "stderr", from, timeoutMs: 20_000 });
  return JSON.parse(line.slice("MEMPROBE ".length));
}

function start(runtime: "bun" | "deno"): Promise<ServerProcess> {
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning", "--max-connections", String(N + 1000)];
  return runtime === "bun"
    ? spawnServer("bun", "main.ts", args, { prefix: ["sh", "-c", `exec "$0" --preload ${PROBE} "$@"`] })
    : spawnServer("deno", "main.ts", args, {
      // The young-generation cap of `npm start`; the inspector for heap snapshots.
      denoFlags: [...DEFAULT_DENO_FLAGS, "--preload", PROBE, "--v8-flags=--expose-gc,--max-semi-space-size=4", "--inspect=127.0.0.1:0"],
    });
}

/**
 * Deno: a V8 heap snapshot over the inspector, summed by what each node is
 * (`object:Connection`, `closure:onWrite`, `string`, ...): self sizes, bytes.
 */
async function heapByKind(server: ServerProcess, name: string): Promise<Map<string, number>> {
  const url = /ws:\/\/\S+/.exec(await server.waitForLine(/ws:\/\//, { stream: "stderr" }))![0];
  const ws = new WebSocket(url);
  await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
  let text = "";
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (message.method === "HeapProfiler.addHeapSnapshotChunk") text += message.params.chunk;
      else if (message.id === 1) resolve();
    };
  });
  ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.takeHeapSnapshot", params: { reportProgress: false } }));
  await done;
  ws.close();
  if (values["save-snapshots"]) await writeFile(`${values["save-snapshots"]}/${name}.heapsnapshot`, text);
  const snapshot = JSON.parse(text);
  const meta = snapshot.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const types: string[] = meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const nodes: number[] = snapshot.nodes;
  const strings: string[] = snapshot.strings;
  const sums = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    const named = type === "object" || type === "closure" || type === "native" || type === "hidden" || type === "array";
    const key = named ? `${type}:${strings[nodes[i + nameAt]!]!.slice(0, 40)}` : type;
    sums.set(key, (sums.get(key) ?? 0) + nodes[i + sizeAt]!);
  }
  return sums;
}

/** Per connection, the kinds that grew by 8 bytes or more, biggest first. */
function kindsPerConn(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const rows = [...after].map(([k, n]) => [k, (n - (before.get(k) ?? 0)) / N] as const).filter(([, n]) => n >= 8);
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, Math.round(n)]));
}

/** Opens `count` TCP connections that send nothing. */
async function openRaw(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = createConnection({ host: "127.0.0.1", port }, () => resolve(socket));
        socket.on("error", reject);
        socket.on("data", () => {}); // a greeting may come: read and drop it
      }));
    sockets.push(...await Promise.all(batch));
  }
  return sockets;
}

/** Runs `tcpchat bench --scenario idle` and resolves once its connections are all up; returns how to end it. */
async function openIdle(port: number, count: number): Promise<() => Promise<void>> {
  const argv = [binPath("bun"), "main.ts", "bench", `127.0.0.1:${port}`, "--scenario", "idle", "--conns", String(count), "--rooms", "10", "--duration", "120s"];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk) => {
      err += chunk;
      if (/ hold /.test(err)) resolve();
    });
    child.on("close", (code) => reject(new Error(`idle bench exited ${code}: ${err}`)));
  });
  return async () => {
    const closed = new Promise((r) => child.on("close", r));
    child.kill("SIGINT");
    await closed;
  };
}

function perConn(after: Probe, before: Probe): Record<string, number> {
  const out: Record<string, number> = {
    rss: (after.rss - before.rss) / N,
    heap: (after.heapUsed - before.heapUsed) / N,
    external: (after.extra - before.extra) / N,
  };
  if (after.types && before.types) {
    for (const [type, n] of Object.entries(after.types)) {
      const per = (n - (before.types[type] ?? 0)) / N;
      if (per >= 0.5) out[`objects:${type}`] = Math.round(per * 10) / 10;
    }
  }
  return out;
}

const snap = (runtime: string) => runtime === "deno" && values.snapshots;
const results: Record<string, unknown>[] = [];
for (const runtime of values.runtimes!.split(",") as ("bun" | "deno")[]) {
  const server = await start(runtime);
  try {
    // Warm-up: every code path of a connection's life runs once before the baseline.
    (await openRaw(server.port, 50)).forEach((s) => s.destroy());
    await (await openIdle(server.port, 100))();
    await sleep(1000);
    const base = await probe(server);
    const baseKinds = snap(runtime) ? await heapByKind(server, "base") : undefined;
    const raw = await openRaw(server.port, N);
    await sleep(1000);
    const rawProbe = await probe(server);
    const rawKinds = snap(runtime) ? await heapByKind(server, "raw") : undefined;
    raw.forEach((s) => s.destroy());
    await sleep(2000);
    const base2 = await probe(server);
    const base2Kinds = snap(runtime) ? await heapByKind(server, "base2") : undefined;
    const stop = await openIdle(server.port, N);
    await sleep(1000);
    const idleProbe = await probe(server);
    const idleKinds = snap(runtime) ? await heapByKind(server, "registered") : undefined;
    await stop();
    const fmt = (o: Record<string, number>) =>
      Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k.startsWith("objects:") ? x : Math.round(x)]));
    const row = {
      runtime,
      conns: N,
      raw: { ...fmt(perConn(rawProbe, base)), ...(rawKinds && kindsPerConn(rawKinds, baseKinds!)) },
      registered: { ...fmt(perConn(idleProbe, base2)), ...(idleKinds && kindsPerConn(idleKinds, base2Kinds!)) },
    };
    results.push(row);
    if (!values.json) console.log(JSON.stringify(row, null, 1));
  } finally {
    await server.stop();
  }
}
if (values.json) console.log(JSON.stringify(results, null, 2));
