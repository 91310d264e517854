/**
 * The `idle` scenario: N connections, each registered and joined to one of M
 * rooms, then silent. It reports what does not depend on the server's
 * internals: how long set-up took (in all, and per connection), whether the
 * server kept every connection while nothing was said, and, given the
 * server's pid, its resident memory before and after (so the cost of one
 * idle connection) and the CPU it spent on the set-up.
 *
 * @module
 */

import type { Runtime } from "../runtime/types.ts";
import { keepAlive } from "./bench_client.ts";
import type { LatencySummary } from "./histogram.ts";
import { type BenchOptions, numbered, type RunHooks } from "./options.ts";
import { every, sleep } from "./phases.ts";
import { CLOCK_TICKS_PER_S, ProcStats, procUnreadable } from "./proc_stats.ts";
import { formatHoldProgress } from "./report.ts";
import { setUpClients } from "./setup.ts";
import { type ProblemCounts, problemsOf } from "./stats.ts";

/** What an idle run measured; also the `--json` output. */
export interface IdleResult {
  scenario: "idle";
  target: string;
  config: { conns: number; rooms: number; hold_s: number };
  setup: { connections: number; seconds: number; conns_per_s: number; handshake: LatencySummary };
  server: {
    pid: number | undefined;
    rss_before_mb: number | undefined;
    rss_after_mb: number | undefined;
    /** (RSS after - RSS before) / connections. */
    kb_per_conn: number | undefined;
    /** Server CPU seconds from before the first connect to the end of the hold. */
    cpu_s: number | undefined;
  };
  problems: ProblemCounts;
  interrupted: boolean;
  warnings: string[];
}

/** Runs the `idle` scenario; throws `SetupError` if set-up fails. */
export async function runIdle(runtime: Runtime, options: BenchOptions, hooks: RunHooks = {}): Promise<IdleResult> {
  const { conns, rooms } = options;
  const server = options.serverPid === undefined ? undefined : new ProcStats(runtime, options.serverPid);
  const [rssBefore, cpuBefore] = [await server?.rssKiB(), await server?.cpuTicks()];

  const setup = await setUpClients(runtime, conns, options, (i, timeoutMs) => ({
    hostname: options.hostname,
    port: options.port,
    transport: options.transport,
    tls: options.tls,
    nick: numbered(`${options.nickPrefix}i`, i, conns),
    room: numbered(options.roomPrefix, i % rooms, rooms),
    timeoutMs,
    latency: null,
    stampAt: 0,
  }), hooks);
  const { clients } = setup;
  const stopKeepAlive = keepAlive(clients);

  const start = performance.now();
  const stopTicker = every(1000, async () => {
    const closed = clients.filter((c) => c.closedByPeer).length;
    hooks.progress?.(formatHoldProgress((performance.now() - start) / 1000, clients.length - closed, closed, await server?.rssKiB()));
  });
  try {
    await sleep(options.durationMs, hooks.signal);
  } finally {
    stopTicker();
    stopKeepAlive();
  }
  const [rssAfter, cpuAfter] = [await server?.rssKiB(), await server?.cpuTicks()];
  const problems = problemsOf(clients, []);
  for (const client of clients) client.close();
  await Promise.race([Promise.all(clients.map((c) => c.done)), sleep(2000)]);

  const mb = (kib: number | undefined) => (kib === undefined ? undefined : kib / 1024);
  const result: IdleResult = {
    scenario: "idle",
    target: options.transport === "ws" ? `ws://${options.hostname}:${options.port}/ws` : `${options.hostname}:${options.port}`,
    config: { conns, rooms, hold_s: options.durationMs / 1000 },
    setup: {
      connections: clients.length,
      seconds: setup.seconds,
      conns_per_s: setup.seconds > 0 ? clients.length / setup.seconds : 0,
      handshake: setup.handshake,
    },
    server: {
      pid: options.serverPid,
      rss_before_mb: mb(rssBefore),
      rss_after_mb: mb(rssAfter),
      kb_per_conn: rssBefore === undefined || rssAfter === undefined ? undefined : (rssAfter - rssBefore) / conns,
      cpu_s: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / CLOCK_TICKS_PER_S,
    },
    problems,
    interrupted: hooks.signal?.aborted ?? false,
    warnings: [],
  };
  if (problems.subs_closed > 0) result.warnings.push(`the server closed ${problems.subs_closed} idle connections`);
  if (problems.error_frames + problems.bye_frames > 0) {
    result.warnings.push(`the server sent ${problems.error_frames} error and ${problems.bye_frames} bye frames; first: ${problems.first_problem}`);
  }
  if (options.serverPid !== undefined && rssAfter === undefined) {
    result.warnings.push(procUnreadable(options.serverPid));
  }
  return result;
}
