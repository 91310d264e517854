/**
 * The runtime layer's public face: {@linkcode getRuntime} picks the adapter for
 * whichever runtime is executing, once, and the rest of the code base uses
 * only the {@linkcode Runtime} interface from `types.ts`.
 *
 * @example
 * ```ts
 * import { getRuntime } from "./lib/runtime/mod.ts";
 * const runtime = getRuntime();
 * const listener = await runtime.listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const conn of listener) conn.close();
 * ```
 *
 * @module
 */

import type { Runtime } from "./types.ts";
import { createBunRuntime } from "./bun.ts";
import { createDenoRuntime } from "./deno.ts";
import { createNodeRuntime } from "./node.ts";

export type * from "./types.ts";
/** Errors from `connect`, `listen`, `serveHttp` and failed writes carry one of these `code`s. */
export type { NetError, NetErrorCode } from "./_net.ts";

let runtime: Runtime | undefined;

/**
 * The adapter for the current runtime, created on first call. Deno is checked
 * first, then Bun, then Node: Deno and Bun both also look like Node.
 */
export function getRuntime(): Runtime {
  runtime ??= "Deno" in globalThis
    ? createDenoRuntime()
    : "Bun" in globalThis
    ? createBunRuntime()
    : createNodeRuntime();
  return runtime;
}
