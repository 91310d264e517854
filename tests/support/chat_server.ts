/**
 * Starts the real chat server (`main.ts serve`) under a given runtime for the
 * end-to-end suites, on 127.0.0.1 with a free port and JSON logs, on top of
 * the general {@linkcode spawnServer}.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  ARTEFACT_RUNTIMES,
  REPO_ROOT,
  RUNTIMES,
  type RuntimeName,
  type ServerProcess,
  type SpawnOptions,
  spawnServer,
} from "./runtimes.ts";

/** Newest modification time of the sources the artefacts are built from. */
function newestSourceMs(): number {
  let newest = statSync(join(REPO_ROOT, "main.ts")).mtimeMs;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(REPO_ROOT, "lib"));
  return newest;
}

/**
 * Whether dist/ holds artefacts built from the current sources. In CI they
 * must be (the build runs first); locally, stale or missing artefacts are
 * skipped with a note rather than tested as if they were current.
 */
function artefactsAreCurrent(): boolean {
  const sums = join(REPO_ROOT, "dist", "SHA256SUMS");
  const current = existsSync(sums) && statSync(sums).mtimeMs >= newestSourceMs();
  if (!current && process.env.CI) throw new Error("dist/ is missing or older than the sources: run npm run build first");
  if (!current) console.warn("note: dist/ is missing or stale; end-to-end suites skip the release artefacts (npm run build)");
  return current;
}

/**
 * Runtimes the end-to-end suites run against: the source under bun, deno and
 * node, and the release artefacts (linux executable, bundle under deno and
 * node) when built. `TCPCHAT_TEST_RUNTIMES=bun,binary` picks any of them.
 */
export const SERVER_RUNTIMES: RuntimeName[] = process.env.TCPCHAT_TEST_RUNTIMES
  ? (process.env.TCPCHAT_TEST_RUNTIMES.split(",").map((r) => r.trim()).filter((r) =>
    [...RUNTIMES, ...ARTEFACT_RUNTIMES].includes(r as RuntimeName)
  ) as RuntimeName[])
  : [...RUNTIMES, ...(artefactsAreCurrent() ? ARTEFACT_RUNTIMES : [])];

/** A running chat server. */
export interface ChatServerProcess extends ServerProcess {
  /** Resolves once its logs (stderr) contain `text`; rejects with the logs after `timeoutMs`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
}

/** Starts `tcpchat serve` with `flags` (later flags win over the test defaults); `options` adds env, deno flags. */
export async function startChatServer(
  runtime: RuntimeName,
  flags: string[],
  options: SpawnOptions = {},
): Promise<ChatServerProcess> {
  const server = await spawnServer(runtime, "main.ts", [
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--log-format",
    "json",
    ...flags,
  ], options);
  return {
    ...server,
    async waitForLog(text: string, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!server.stderr().includes(text)) {
        if (Date.now() > deadline) throw new Error(`log has no ${text}:\n${server.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
