/**
 * Starts the real chat server (`main.ts serve`) under a given runtime for the
 * end-to-end suites, on 127.0.0.1 with a free port and JSON logs, on top of
 * the general {@linkcode spawnServer}.
 */
import { RUNTIMES, type RuntimeName, type ServerProcess, type SpawnOptions, spawnServer } from "./runtimes.ts";

/** Runtimes the end-to-end suites run against (`TCPCHAT_TEST_RUNTIMES=bun,deno` narrows it). */
export const SERVER_RUNTIMES: RuntimeName[] = RUNTIMES;

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
