/**
 * Start-up time of each way to run the server: the time from spawning
 * `tcpchat serve` until its port accepts a TCP connection, over repeated,
 * interleaved runs; plus each artefact's size. Run after `npm run build`:
 *
 *   npx bun scripts/bench_startup.ts [--runs 10]
 */
import { statSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { binPath, nodeBin, REPO_ROOT } from "../tests/support/runtimes.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string", default: "10" } } });
const runs = Number(values.runs);
const dist = (file: string) => join(REPO_ROOT, "dist", file);
const denoFlags = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write"];

const CANDIDATES: { name: string; argv: string[]; file?: string }[] = [
  { name: "tcpchat-linux-x64", argv: [dist("tcpchat-linux-x64")], file: dist("tcpchat-linux-x64") },
  { name: "node tcpchat.js", argv: [nodeBin(), dist("tcpchat.js")], file: dist("tcpchat.js") },
  { name: "bun tcpchat.js", argv: [binPath("bun"), dist("tcpchat.js")] },
  { name: "deno run tcpchat.js", argv: [binPath("deno"), ...denoFlags, dist("tcpchat.js")] },
  { name: "bun main.ts (source)", argv: [binPath("bun"), join(REPO_ROOT, "main.ts")] },
  { name: "deno run main.ts (source)", argv: [binPath("deno"), ...denoFlags, join(REPO_ROOT, "main.ts")] },
];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Milliseconds from spawn until the port accepts. */
async function startupMs(argv: string[]): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const proc = Bun.spawn([...argv, "serve", "--host", "127.0.0.1", "--port", String(port), "--log-level", "error", "--memory"], {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    for (;;) {
      if (await accepts(port)) return performance.now() - started;
      if (performance.now() - started > 20_000) throw new Error(`${argv.join(" ")} did not start`);
      await Bun.sleep(2);
    }
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

const samples = new Map<string, number[]>(CANDIDATES.map((c) => [c.name, []]));
for (let run = 0; run < runs + 1; run++) {
  for (const candidate of CANDIDATES) {
    const ms = await startupMs(candidate.argv);
    if (run > 0) samples.get(candidate.name)!.push(ms); // run 0 warms file caches
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`| how it runs | size | start-up ms, median (min-max) over ${runs} runs |`);
console.log("|---|---|---|");
for (const candidate of CANDIDATES) {
  const xs = samples.get(candidate.name)!;
  const size = candidate.file ? `${(statSync(candidate.file).size / 1024 / 1024).toFixed(1)} MiB` : "";
  console.log(
    `| ${candidate.name} | ${size} | ${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}) |`,
  );
}
