/**
 * Defaults that depend on another setting. The settings table holds one
 * default per setting; the few that differ by context are adjusted here,
 * only when no source (file, env, flag) set them.
 *
 * - `history`: 10,000 messages per room with a data directory (they live on
 *   disk; memory holds only the newest) or a cluster (they live in Redis),
 *   100 without (all of them in memory).
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
