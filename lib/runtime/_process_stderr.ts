/**
 * Writing to stderr without ever blocking the event loop, for Bun and Node
 * (Deno has its own async `Deno.stderr.write`). `process.stderr.write` with a
 * callback queues inside the stream when the pipe is full; the caller keeps at
 * most one write in flight. Synchronous paths (`console.error`, `fs.write` on
 * fd 2 under Bun) stall the whole server once a pipe nobody reads fills up.
 *
 * @module
 */
import process from "node:process";

let guarded = false;

/** Resolves once `bytes` went to stderr; rejects if stderr is broken (EPIPE). */
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
