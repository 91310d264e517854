/**
 * Starts the real chat server (`main.ts serve`) as a child process under a
 * given runtime, waits for its port, and stops it. The end-to-end suites run
 * once per runtime in {@linkcode SERVER_RUNTIMES}.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// TEMPORARY until tests/support/runtimes.ts lands.
type RuntimeName = "bun" | "deno" | "node" | "bun-dev";
const ROOT = resolve(import.meta.dir, "../..");
const BIN = (name: string) => join(ROOT, "node_modules/.bin", name);
let bundled: Promise<string> | undefined;
async function runtimeCommand(runtime: RuntimeName, entry: string): Promise<string[]> {
  const file = join(ROOT, entry);
  switch (runtime) {
    case "bun-dev":
      return [BIN("bun"), "/tmp/dev/serve.ts"];
    case "bun":
      return [BIN("bun"), file];
    case "deno":
      return [BIN("deno"), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", file];
    case "node": {
      bundled ??= (async () => {
        const out = join(mkdtempSync(join(tmpdir(), "tcpchat-bundle-")), "tcpchat.js");
        const p = Bun.spawn([BIN("bun"), "build", file, "--target=node", "--outfile", out], { stdout: "pipe", stderr: "pipe" });
        if ((await p.exited) !== 0) throw new Error(await new Response(p.stderr).text());
        return out;
      })();
      return ["node", await bundled];
    }
  }
}

/** Runtimes the end-to-end suites run against; `TCPCHAT_TEST_RUNTIMES=bun,deno` narrows it. */
export const SERVER_RUNTIMES: RuntimeName[] = (process.env.TCPCHAT_TEST_RUNTIMES ?? "bun,deno,node")
  .split(",")
  .filter(Boolean) as RuntimeName[];

/** A running server process. */
export interface ChatServerProcess extends AsyncDisposable {
  port: number;
  pid: number;
  /** Exit code, once it exits. */
  exited: Promise<number>;
  /** Everything it wrote to stderr so far (its logs). */
  stderr(): string;
  /** Resolves once its logs contain `text`; rejects with the logs after `timeoutMs`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  /** Its resident memory now, from /proc. */
  rssBytes(): number;
  /** Sends a signal. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within 8 s. */
  stop(): Promise<void>;
}

/** Starts `tcpchat serve` on 127.0.0.1 with a free port plus `flags` (later flags win). */
export async function startChatServer(runtime: RuntimeName, flags: string[]): Promise<ChatServerProcess> {
  const argv = [
    ...(await runtimeCommand(runtime, "main.ts")),
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--log-format",
    "json",
    ...flags,
  ];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let stderrText = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderrText += decoder.decode(chunk, { stream: true });
  })();
  const port = await readPort(proc.stdout, () => stderrText, proc.exited);
  const exited = proc.exited;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 8000);
    await exited;
    clearTimeout(timer);
  };
  return {
    port,
    pid: proc.pid,
    exited,
    stderr: () => stderrText,
    waitForLog: async (text, timeoutMs = 3000) => {
      const deadline = Date.now() + timeoutMs;
      while (!stderrText.includes(text)) {
        if (Date.now() > deadline) throw new Error(`log has no ${text}:\n${stderrText}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    rssBytes: () => {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    },
    signal: (signal) => proc.kill(signal),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Reads stdout until the `listening HOST:PORT` line. */
async function readPort(
  stdout: ReadableStream<Uint8Array>,
  stderr: () => string,
  exited: Promise<number>,
): Promise<number> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timeout = setTimeout(() => reader.cancel("timeout"), 20_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const match = /listening \S+:(\d+)/.exec(text);
      if (match) {
        // Keep draining stdout so the child never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read()).done);
        })();
        return Number(match[1]);
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("running"), 100))]);
  throw new Error(`server did not report its port (exit: ${code}); stdout: ${text}; stderr: ${stderr()}`);
}
