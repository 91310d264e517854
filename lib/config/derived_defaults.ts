/**
 * Defaults that depend on another setting or on the JavaScript runtime. The
 * settings table holds one default per setting; the few that differ by
 * context are adjusted here, only when no source (file, env, flag) set them.
 *
 * - `history`: 10,000 messages per room with a data directory (they live on
 *   disk; memory holds only the newest) or a cluster (they live in Redis),
 *   100 without (all of them in memory).
 * - `jit_warmup`: the table's 20,000 messages on Bun, none on Deno and Node.
 *   On JavaScriptCore the warmed code stays: no optimising compilation was
 *   left for the first seconds of traffic. On V8 it did not: the first frames
 *   of real clients (hello, join, reads cut at other places) deoptimised 21
 *   functions compiled during the warm-up, and the window the benchmark
 *   measures then held 30 TurboFan compilations against 16 without a warm-up
 *   (lib/server/jit_warmup.ts; docs/benchmarks.md, issue 15, fifth session).
 *
 * @module
 */
import type { Settings } from "./settings.ts";

/** A JavaScript runtime, as `Runtime.name` names it. */
export type Engine = "bun" | "deno" | "node";

/** `history` when not set and everything is in memory (the table's default is for a data directory). */
export const MEMORY_HISTORY_DEFAULT = 100;

/**
 * Applies the context-dependent defaults in place, to settings still at
 * their table default; `engine` is the runtime the settings are for (unknown:
 * the table's default stands).
 */
export function applyDerivedDefaults(settings: Settings, origins: Record<keyof Settings, string>, engine?: Engine): void {
  // A cluster keeps history in Redis: as durable as a data directory, and in memory (Redis's) only there.
  if (origins.history === "default" && settings.data_dir === "" && settings.cluster === "") settings.history = MEMORY_HISTORY_DEFAULT;
  if (origins.jit_warmup === "default" && engine !== undefined && engine !== "bun") settings.jit_warmup = 0;
}

