/**
 * Opening a run's connections: bounded concurrency, one deadline for the
 * whole set-up, a progress line per second, and the time each connection took
 * from connect to its room snapshot.
 *
 * @module
 */

import type { Runtime } from "../runtime/types.ts";
import { type BenchClient, type BenchClientOptions, openClients } from "./bench_client.ts";
import { LatencyHistogram, type LatencySummary } from "./histogram.ts";
import type { BenchOptions, RunHooks } from "./options.ts";
import { every } from "./phases.ts";
import { formatSetupProgress } from "./report.ts";

/** A run's open connections and what opening them took. */
export interface SetupResult {
  clients: BenchClient[];
  /** Wall time from the first connect to the last room snapshot. */
  seconds: number;
  /** Per connection, from connect to room snapshot. */
  handshake: LatencySummary;
}

/**
 * Opens `count` connections described by `optionsFor(index, timeoutMs)`, where
 * `timeoutMs` is what is left of `options.setupTimeoutMs`. Throws `SetupError`.
 */
export async function setUpClients(
  runtime: Runtime,
  count: number,
  options: BenchOptions,
  optionsFor: (index: number, timeoutMs: number) => BenchClientOptions,
  hooks: RunHooks,
): Promise<SetupResult> {
  const start = performance.now();
  const deadline = start + options.setupTimeoutMs;
  const times = new LatencyHistogram();
  const stopTicker = every(
    1000,
    () => hooks.progress?.(formatSetupProgress((performance.now() - start) / 1000, times.count, count)),
  );
  try {
    const clients = await openClients(
      runtime,
      count,
      options.connectConcurrency,
      (index) => optionsFor(index, Math.max(1, deadline - performance.now())),
      times,
      hooks.signal,
    );
    return { clients, seconds: (performance.now() - start) / 1000, handshake: times.summary() };
  } finally {
    stopTicker();
  }
}
