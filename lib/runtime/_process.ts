/**
 * The services Bun and Node both take from Node's `process` (signals, argv,
 * env, exit, memory, terminals, files, stderr), so their adapters share one
 * definition. Deno has its own.
 *
 * @module
 */
import { appendFile } from "node:fs/promises";
import process from "node:process";
import type { Runtime, SignalName } from "./types.ts";
import { releaseV8Memory } from "./_release_memory.ts";

let guarded = false;

/**
 * Writes to stderr without ever blocking the event loop: `process.stderr.write`
 * with a callback queues inside the stream when the pipe is full; the caller
 * keeps at most one write in flight. Synchronous paths (`console.error`,
 * `fs.write` on fd 2 under Bun) stall the whole server once a pipe nobody
 * reads fills up. Rejects if stderr is broken (EPIPE).
 */
export function writeProcessStderr(bytes: Uint8Array): Promise<void> {
  if (!guarded) {
    // A closed stderr raises EPIPE as an 'error' event, which would kill the process unheard.
    process.stderr.on("error", () => {});
    guarded = true;
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function onSignal(signal: SignalName, handler: () => void): () => void {
  process.on(signal, handler);
  return () => void process.off(signal, handler);
}

/** The `Runtime` members that come from `process` and `node:fs` alike under Bun and Node. */
export const PROCESS_SERVICES: Pick<
  Runtime,
  "onSignal" | "appendFile" | "writeStderr" | "args" | "env" | "exit" | "memoryRss" | "releaseMemory" | "isTerminal"
> = {
  onSignal,
  // Bun has no append in its own file API; its node:fs is native.
  appendFile: (path, bytes) => appendFile(path, bytes),
  writeStderr: writeProcessStderr,
  // Also right for `bun build --compile` binaries: Bun 1.4.5 reports
  // ["bun", "/$bunfs/root/<name>", ...args] there.
  args: process.argv.slice(2),
  env: (name) => process.env[name],
  exit: (code) => process.exit(code),
  memoryRss: () => process.memoryUsage.rss(),
  // Node's engine; the Bun adapter puts its own in place.
  releaseMemory: releaseV8Memory,
  isTerminal: (stream) => process[stream].isTTY === true,
};
