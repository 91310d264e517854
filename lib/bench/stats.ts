/**
 * Counters of a fan-out run at one instant, with CPU readings, and the rates
 * between two such snapshots: what the progress lines and the final report
 * are made of.
 *
 * @module
 */

import type { BenchClient } from "./bench_client.ts";
import { CLOCK_TICKS_PER_S, type ProcStats } from "./proc_stats.ts";

/** Running totals of a fan-out run. */
export interface LoadCounts {
  /** Messages the publishers sent. */
  sent: number;
  /** Messages received by subscribers (publishers' own copies excluded). */
  deliveries: number;
  /** Messages received by publishers (their own copies, and each other's). */
  acks: number;
  /** Bytes received by subscribers. */
  bytes: number;
}

/** {@linkcode LoadCounts} at an instant, with CPU times read about then. */
export interface Snapshot extends LoadCounts {
  /** When the counts were read. */
  atMs: number;
  /** When the CPU times were asked for (their answer may come a busy event-loop turn later). */
  cpuAtMs: number;
  benchCpuTicks: number | undefined;
  serverCpuTicks: number | undefined;
}

/** Per-second figures between two snapshots. */
export interface Rates {
  seconds: number;
  deliveries_per_s: number;
  pub_msgs_per_s: number;
  acks_per_s: number;
  recv_mb_per_s: number;
  /** Cores the bench used (1.0 = one core busy all the time). */
  bench_cpu_cores: number | undefined;
  /** Cores the server used, when its pid was given. */
  server_cpu_cores: number | undefined;
}

/** Reads the CPU meters, then the counts with the time, so that counts and time always match. */
export async function takeSnapshot(
  counts: () => LoadCounts,
  self: ProcStats,
  server: ProcStats | undefined,
): Promise<Snapshot> {
  const cpuAtMs = performance.now();
  const [benchCpuTicks, serverCpuTicks] = await Promise.all([self.cpuTicks(), server?.cpuTicks()]);
  return { ...counts(), atMs: performance.now(), cpuAtMs, benchCpuTicks, serverCpuTicks };
}

function cores(before: number | undefined, after: number | undefined, seconds: number): number | undefined {
  if (before === undefined || after === undefined || seconds <= 0) return undefined;
  return (after - before) / CLOCK_TICKS_PER_S / seconds;
}

/** The rates from `a` to `b` (zero over an empty interval). */
export function ratesBetween(a: Snapshot, b: Snapshot): Rates {
  const seconds = (b.atMs - a.atMs) / 1000;
  const per = (count: number) => (seconds > 0 ? count / seconds : 0);
  return {
    seconds,
    deliveries_per_s: per(b.deliveries - a.deliveries),
    pub_msgs_per_s: per(b.sent - a.sent),
    acks_per_s: per(b.acks - a.acks),
    recv_mb_per_s: per(b.bytes - a.bytes) / 1e6,
    bench_cpu_cores: cores(a.benchCpuTicks, b.benchCpuTicks, (b.cpuAtMs - a.cpuAtMs) / 1000),
    server_cpu_cores: cores(a.serverCpuTicks, b.serverCpuTicks, (b.cpuAtMs - a.cpuAtMs) / 1000),
  };
}

/** Error frames, goodbyes and lost connections seen during a run. */
export interface ProblemCounts {
  error_frames: number;
  bye_frames: number;
  /** Subscribers (idle: connections) the server closed. */
  subs_closed: number;
  pubs_closed: number;
  /** The first `error` or `bye` line received, shortened. */
  first_problem: string | undefined;
}

/** Adds up the problems seen by `subscribers` and `publishers`. */
export function problemsOf(subscribers: BenchClient[], publishers: BenchClient[]): ProblemCounts {
  const all = [...subscribers, ...publishers];
  return {
    error_frames: all.reduce((sum, c) => sum + c.counter.errors, 0),
    bye_frames: all.reduce((sum, c) => sum + c.counter.byes, 0),
    subs_closed: subscribers.filter((c) => c.closedByPeer).length,
    pubs_closed: publishers.filter((c) => c.closedByPeer).length,
    first_problem: all.find((c) => c.counter.firstProblem !== undefined)?.counter.firstProblem,
  };
}
