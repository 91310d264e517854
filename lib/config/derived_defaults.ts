/**
 * Defaults that depend on another setting. The settings table holds one
 * default per setting; the few that differ by context are adjusted here,
 * only when no source (file, env, flag) set them.
 *
 * - `history`: 10,000 messages per room with a data directory (they live on
 *   disk; memory holds only the newest) or a cluster (they live in Redis),
 *   100 without (all of them in memory).
 * - `jit_warmup`: the table's 20,000 messages on Bun, none on Deno and Node
 *   (see {@linkcode warmUpMessages}).
 *
 * @module
 */
import type { Settings } from "./settings.ts";

/** `history` when not set and everything is in memory (the table's default is for a data directory). */
export const MEMORY_HISTORY_DEFAULT = 100;

/** Applies the context-dependent defaults in place, to settings still at their table default. */
export function applyDerivedDefaults(settings: Settings, origins: Record<keyof Settings, string>): void {
  // A cluster keeps history in Redis: as durable as a data directory, and in memory (Redis's) only there.
  if (origins.history === "default" && settings.data_dir === "" && settings.cluster === "") settings.history = MEMORY_HISTORY_DEFAULT;
}

/**
 * How many messages the start-up warm-up passes (lib/server/jit_warmup.ts):
 * `jit_warmup` if a source set it, else the table's default on Bun and 0 on
 * the V8 runtimes. On JavaScriptCore the warmed code stays: no optimising
 * compilation was left for the first seconds of traffic. On V8 it did not:
 * the first frames of real clients (hello, join, reads cut at other places)
 * deoptimised 21 functions compiled during the warm-up, and the window the
 * benchmark measures then held 30 TurboFan compilations against 16 without
 * a warm-up (docs/benchmarks.md, issue 15, fifth session).
 */
export function warmUpMessages(settings: Settings, origins: Record<keyof Settings, string>, engine: "bun" | "deno" | "node"): number {
  return origins.jit_warmup === "default" && engine !== "bun" ? 0 : settings.jit_warmup;
}
