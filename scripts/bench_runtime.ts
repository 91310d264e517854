/**
 * Throughput of the runtime layer under bun, deno and node: the fixture
 * server (`tests/fixtures/runtime_fixture.ts`) runs under each runtime, and
 * this process (Bun, using the Bun adapter as the client) measures
 *
 * - server → client MiB/s: the server writes 100 MiB in 64 KiB awaited writes;
 * - client → server MiB/s: the client writes 100 MiB, the server reads it all;
 * - round-trips/s: 100 connections, each sending 64 bytes and waiting for the
 *   echo, over and over, for a fixed time.
 *
 * Each measurement is repeated (rounds interleave the runtimes so drift hits
 * them alike) and reported as median and min–max, as Markdown.
 *
 * Usage: `npx bun scripts/bench_runtime.ts [--rounds 5] [--mib 100] [--rtt-seconds 2]`
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { getRuntime } from "../lib/runtime/mod.ts";
import type { Conn } from "../lib/runtime/types.ts";
import {
  ALL_RUNTIMES,
  binPath,
  nodeBin,
  type RuntimeName,
  type ServerProcess,
  spawnServer,
} from "../tests/support/runtimes.ts";

const FIXTURE = "tests/fixtures/runtime_fixture.ts";
const MIB = 1024 * 1024;
const WRITE_CHUNK_BYTES = 64 * 1024;
const RTT_CONNECTIONS = 100;
const RTT_MESSAGE_BYTES = 64;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    mib: { type: "string", default: "100" },
    "rtt-seconds": { type: "string", default: "2" },
    pin: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const transferBytes = Number(values.mib) * MIB;
const rttMs = Number(values["rtt-seconds"]) * 1000;

const runtime = getRuntime();
const connect = (port: number) => runtime.connect({ hostname: "127.0.0.1", port });

/** Server → client: seconds until the server's FIN after `transferBytes`. */
async function measureDownload(port: number): Promise<number> {
  const start = performance.now();
  const conn = await connect(port);
  let received = 0;
  for await (const chunk of conn.readable) received += chunk.byteLength;
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  if (received !== transferBytes) throw new Error(`download got ${received} of ${transferBytes} bytes`);
  return transferBytes / MIB / seconds;
}

/** Client → server: seconds until the server confirms it read `transferBytes`. */
async function measureUpload(port: number): Promise<number> {
  const chunk = new Uint8Array(WRITE_CHUNK_BYTES).fill(0x61);
  const start = performance.now();
  const conn = await connect(port);
  for (let sent = 0; sent < transferBytes; sent += chunk.byteLength) {
    await conn.write(sent + chunk.byteLength <= transferBytes ? chunk : chunk.subarray(0, transferBytes - sent));
  }
  await conn.closeWrite();
  let reply = "";
  for await (const bytes of conn.readable) reply += new TextDecoder().decode(bytes);
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  if (Number(reply.trim()) !== transferBytes) throw new Error(`server read ${reply.trim()} of ${transferBytes} bytes`);
  return transferBytes / MIB / seconds;
}

/** One connection's sequential echo round-trips until `deadline`. */
async function roundTrips(conn: Conn, deadline: number): Promise<number> {
  const message = new Uint8Array(RTT_MESSAGE_BYTES).fill(0x62);
  const reader = conn.readable[Symbol.asyncIterator]();
  let count = 0;
  while (performance.now() < deadline) {
    await conn.write(message);
    for (let got = 0; got < RTT_MESSAGE_BYTES;) {
      const { value, done } = await reader.next();
      if (done) throw new Error("echo server closed early");
      got += value.byteLength;
    }
    count++;
  }
  return count;
}

/** Round-trips per second over {@linkcode RTT_CONNECTIONS} concurrent connections. */
async function measureRoundTrips(port: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: RTT_CONNECTIONS }, () => connect(port)));
  for (const conn of conns) conn.setNoDelay(true);
  const start = performance.now();
  const counts = await Promise.all(conns.map((conn) => roundTrips(conn, start + rttMs)));
  const seconds = (performance.now() - start) / 1000;
  for (const conn of conns) conn.close();
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

type Metric = "download" | "upload" | "rtt";
const METRICS: Record<Metric, { mode: string[]; measure: (port: number) => Promise<number> }> = {
  download: { mode: ["source", String(transferBytes), String(WRITE_CHUNK_BYTES)], measure: measureDownload },
  upload: { mode: ["sink"], measure: measureUpload },
  rtt: { mode: ["echo"], measure: measureRoundTrips },
};

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summary(samples: number[]): string {
  const fmt = (n: number) => (n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(0));
  return `${fmt(median(samples))} (${fmt(Math.min(...samples))}–${fmt(Math.max(...samples))})`;
}

// --pin: this client on CPU 0, servers on CPU 1, so the two never fight over a core.
const prefix = values.pin ? ["taskset", "-c", "1"] : [];
if (values.pin) execFileSync("taskset", ["-a", "-pc", "0", String(process.pid)]);

const servers = new Map<string, ServerProcess>();
const results = new Map<string, number[]>();
try {
  for (const name of ALL_RUNTIMES) {
    for (const [metric, { mode }] of Object.entries(METRICS)) {
      servers.set(`${name} ${metric}`, await spawnServer(name, FIXTURE, mode, { denoFlags: ["--allow-net=127.0.0.1"], prefix }));
    }
  }
  // Round 0 warms up the JITs and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const metric of Object.keys(METRICS) as Metric[]) {
      for (const name of ALL_RUNTIMES) {
        const value = await METRICS[metric].measure(servers.get(`${name} ${metric}`)!.port);
        if (round > 0) results.set(`${name} ${metric}`, [...(results.get(`${name} ${metric}`) ?? []), value]);
      }
    }
    if (round > 0) {
      const line = [...results].map(([key, samples]) => `${key}=${samples.at(-1)!.toFixed(0)}`).join(" ");
      console.error(`round ${round}/${rounds}: ${line}`);
    }
  }
} finally {
  for (const server of servers.values()) await server.stop();
}

const versions = Object.fromEntries(ALL_RUNTIMES.map((name) => {
  const bin = name === "node" ? nodeBin() : binPath(name);
  // First line, without Deno's "(stable, release, ...)" tail.
  return [name, execFileSync(bin, ["--version"]).toString().split("\n")[0]!.replace(/ \(.*$/, "").trim()];
})) as Record<RuntimeName, string>;

const base = (metric: Metric) => median(results.get(`bun ${metric}`)!);
console.log(`| runtime | server → client MiB/s | client → server MiB/s | round-trips/s (${RTT_CONNECTIONS} conns) |`);
console.log("| --- | --- | --- | --- |");
for (const name of ALL_RUNTIMES) {
  const cells = (Object.keys(METRICS) as Metric[]).map((metric) => {
    const samples = results.get(`${name} ${metric}`)!;
    const ratio = name === "bun" ? "" : ` ×${(median(samples) / base(metric)).toFixed(2)}`;
    return `${summary(samples)}${ratio}`;
  });
  console.log(`| ${name} (${versions[name]}) | ${cells.join(" | ")} |`);
}
console.log(
  `\n${rounds} rounds, median (min–max); ×N = median relative to bun. ${values.mib} MiB per transfer, ` +
    `${WRITE_CHUNK_BYTES / 1024} KiB writes; ${RTT_MESSAGE_BYTES}-byte echoes for ${rttMs / 1000} s. ` +
    `Client: Bun adapter in ${runtime.name} ${runtime.version}. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}.`,
);
