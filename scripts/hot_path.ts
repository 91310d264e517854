/**
 * CPU per delivery of the server's message path, in one process, with no
 * sockets (issue 15): a real `ChatServer` (memory store, rate limits and the
 * default room off) accepts fake transports; the publisher's `msg` lines are
 * fed to its connection as chunks, and each subscriber's single write per
 * turn is taken and counted instead of reaching a socket. What is measured is
 * exactly the path from a chunk of input to the one write per destination:
 * splitting, decoding, the hub, the store seam, history, the broadcast, the
 * queues and the write scheduler. Process CPU time (user + system) is used,
 * so a loaded machine changes the figure much less than wall time would.
 *
 * `--root DIR` loads the server from another checkout (e.g. a `git worktree`
 * of an older commit), so that two versions can be measured alternately:
 *
 * ```
 * npx bun scripts/hot_path.ts --root /tmp/base --root . --rounds 5
 * deno run -A --v8-flags=--max-semi-space-size=4 scripts/hot_path.ts --root /tmp/base --root .
 * ```
 *
 * It runs under Deno and Node as well (the server's runtime is the one
 * running it), which is how the shared path's cost on V8 is seen apart from
 * the socket: see docs/benchmarks.md, "The Deno write path, profiled".
 *
 * Cases (`--cases`): `1x100` (16 msgs per chunk, one publisher write of
 * scenario A), `1x100w` (400 msgs per chunk: what one read brings the server
 * in A once it is saturated: 64 KiB reads of ~460 lines on Deno, ~400 on
 * Bun, counted with `perf stat` on recvfrom), `1x1` (one msg per chunk,
 * scenario F's) and `1x100x1` (one msg per chunk to 100 subscribers, B's).
 * Prints, per root and case, the median over rounds
 * of CPU ns per delivery (a delivery: one copy queued and written, the
 * sender's acknowledgement included) and per received frame.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";

const { values } = parseArgs({
  options: {
    root: { type: "string", multiple: true, default: ["."] },
    rounds: { type: "string", default: "5" },
    msgs: { type: "string", default: "20000" },
    cases: { type: "string", default: "1x100,1x100w,1x1,1x100x1" },
  },
});

interface Case {
  name: string;
  subs: number;
  perChunk: number;
}
const CASES: Case[] = [
  { name: "1x100", subs: 100, perChunk: 16 },
  { name: "1x100w", subs: 100, perChunk: 400 },
  { name: "1x1", subs: 1, perChunk: 1 },
  // Scenario B's shape: one message per turn to 100 members (the fan-out run holds a single frame).
  { name: "1x100x1", subs: 100, perChunk: 1 },
]
  .filter((c) => values.cases!.split(",").includes(c.name));

const encoder = new TextEncoder();

/** Loads one checkout's server and returns a function measuring one case there. */
async function load(root: string) {
  const dir = resolve(root);
  const { ChatServer } = await import(`${dir}/lib/server/chat_server.ts`);
  const { defaultSettings } = await import(`${dir}/lib/config/settings.ts`);
  const { getRuntime } = await import(`${dir}/lib/runtime/mod.ts`);
  const { WRITTEN } = await import(`${dir}/lib/runtime/types.ts`);

  return async (c: Case, msgs: number) => {
    const settings = { ...defaultSettings(), rate_per_s: 0, default_room: "", log_level: "warning" };
    const server = new ChatServer(getRuntime(), settings, "bench");
    let writes = 0;
    let written = 0;
    const sinks: { onChunk(bytes: Uint8Array): void }[] = [];
    const transport = () => {
      const t = {
        kind: "tcp" as const,
        framed: false,
        remoteAddr: { hostname: "127.0.0.1", port: 40000 + sinks.length },
        bufferedBytes: 0,
        holdBytes: 0,
        read(sink: { onChunk(bytes: Uint8Array): void }) {
          sinks.push(sink);
          return new Promise<boolean>(() => {});
        },
        closed: new Promise(() => {}),
        write(queue: { take(cache: unknown): Uint8Array | null }, cache: unknown) {
          const bytes = queue.take(cache);
          if (bytes === null) return null;
          writes++;
          written += bytes.length;
          return WRITTEN;
        },
        writeNow() {},
        refuse() {},
        closeWrite: () => Promise.resolve(),
        close() {},
      };
      return t;
    };
    const tick = () => new Promise((r) => setTimeout(r, 0));
    for (let i = 0; i <= c.subs; i++) {
      server.accept(transport());
      await tick();
      sinks[i]!.onChunk(encoder.encode(`{"type":"hello","nick":"u${i}"}\n{"type":"join","room":"bench"}\n`));
      await tick();
    }
    const publisher = sinks[c.subs]!;
    const chunkFor = (n: number) => {
      let lines = "";
      for (let k = 0; k < c.perChunk; k++) {
        const text = `@${String(1_700_000_000_000_000_000n + BigInt(n + k)).padStart(19, "0")}`.padEnd(100, "x");
        lines += `{"type":"msg","room":"bench","text":"${text}","id":"${n + k}"}\n`;
      }
      return encoder.encode(lines);
    };
    // Input prepared up front, so that building it is not measured.
    const chunks = Array.from({ length: Math.ceil(msgs / c.perChunk) }, (_, i) => chunkFor(i * c.perChunk));
    const run = async () => {
      for (const chunk of chunks) {
        publisher.onChunk(chunk);
        await null; // The scheduler's pass (a microtask) runs before this resumes.
      }
    };
    await run(); // Warm-up: JIT.
    const writesBefore = writes;
    const cpu = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpu);
    const ns = (used.user + used.system) * 1000;
    const frames = chunks.length * c.perChunk;
    const deliveries = frames * (c.subs + 1);
    await server.shutdown(0);
    return { nsPerDelivery: ns / deliveries, nsPerFrame: ns / frames, writesPerTurn: (writes - writesBefore) / chunks.length };
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const roots = values.root!;
const measure = await Promise.all(roots.map(load));
const results = new Map<string, { d: number[]; f: number[]; w: number }>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const c of CASES) {
    // Alternate which root goes first, so drift hits both alike.
    const order = roots.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const r = await measure[i]!(c, Number(values.msgs));
      const key = `${roots[i]} ${c.name}`;
      const slot = results.get(key) ?? { d: [], f: [], w: r.writesPerTurn };
      slot.d.push(r.nsPerDelivery);
      slot.f.push(r.nsPerFrame);
      results.set(key, slot);
    }
  }
}
console.log("| root | case | CPU ns/delivery median (min-max) | CPU ns/frame | writes/turn |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const [key, { d, f, w }] of results) {
  const [root, name] = key.split(" ");
  console.log(
    `| ${root} | ${name} | ${median(d).toFixed(0)} (${Math.min(...d).toFixed(0)}-${Math.max(...d).toFixed(0)}) | ${median(f).toFixed(0)} | ${w.toFixed(1)} |`,
  );
}
process.exit(0);
