/**
 * The `fanout` and `latency` scenarios: in each of R rooms, P publishers and
 * S subscribers. Publishers send either as fast as a bounded window allows
 * (at most `window` messages per room not yet received by the room's slowest
 * subscriber) or at a fixed rate; subscribers count what they receive and
 * read each message's send time from its text. After warm-up and measure
 * phases, publishing stops and the run waits (bounded) until every
 * subscriber has every message, so the totals can be checked against the
 * server's own counts.
 *
 * @module
 */

import type { Runtime } from "../runtime/types.ts";
import { keepAlive, SetupError } from "./bench_client.ts";
import { type LoginCounts, LoginLoad, type LoginResult, registerAccounts } from "./login_load.ts";
import { ircMsgOffsets, msgTextOffset } from "./frame_counter.ts";
import { LatencyHistogram, type LatencySummary } from "./histogram.ts";
import { type BenchOptions, numbered, type RunHooks } from "./options.ts";
import { every, sleep, takeLoopLagMs, waitUntil } from "./phases.ts";
import { ProcStats, procUnreadable } from "./proc_stats.ts";
import { PublishFrames } from "./publish_frames.ts";
import { type PublishPace, RoomLoad } from "./room_load.ts";
import { formatProgress } from "./report.ts";
import { setUpClients } from "./setup.ts";
import {
  type LoadCounts,
  type ProblemCounts,
  problemsOf,
  type Rates,
  ratesBetween,
  type Snapshot,
  takeSnapshot,
} from "./stats.ts";

/** What a fan-out or latency run measured; also the `--json` output. */
export interface FanoutResult extends Rates {
  scenario: "fanout" | "latency";
  target: string;
  config: {
    rooms: number;
    pubs_per_room: number;
    subs_per_room: number;
    rate_per_pub: number;
    window: number;
    batch: number;
    size_bytes: number;
    warmup_s: number;
    duration_s: number;
    latency_subs: number;
    sub_dialect: "json" | "irc";
  };
  setup: { connections: number; seconds: number; handshake: LatencySummary };
  /** Over the measure phase; microseconds from send to receipt. */
  latency: LatencySummary;
  /** How late the bench's own timers ran while measuring: its event loop falling behind. */
  loop_lag_ms: number;
  /** Over the whole run, after the drain. */
  totals: LoadCounts & { expected_deliveries: number; drained: boolean };
  problems: ProblemCounts;
  server: { pid: number | undefined; rss_mb: number | undefined };
  /** With `--logins`: the login load over the measure phase. */
  logins?: LoginResult;
  interrupted: boolean;
  warnings: string[];
}

/** Runs the `fanout` or `latency` scenario against a server; throws `SetupError` if set-up fails. */
export async function runFanout(runtime: Runtime, options: BenchOptions, hooks: RunHooks = {}): Promise<FanoutResult> {
  const { rooms: roomCount, pubs, subs, batch, ratePerPub } = options;
  // Ends the phases early: the user's interrupt, or the server closing every connection.
  const ending = new AbortController();
  const signal = ending.signal;
  hooks.signal?.addEventListener("abort", () => ending.abort());
  const perRoom = subs + pubs;
  const roomName = (r: number) => numbered(options.roomPrefix, r, roomCount);
  const pubNick = (r: number, p: number) => numbered(`${options.nickPrefix}p`, r * pubs + p, roomCount * pubs);
  const subNick = (r: number, s: number) => numbered(`${options.nickPrefix}s`, r * subs + s, roomCount * subs);
  const stampAt = msgTextOffset(roomName(0), pubNick(0, 0));
  const ircSubs = options.subDialect === "irc";
  // Nicks and rooms of one run have one length, so one offset serves every room.
  const ircStampAt = ircMsgOffsets(roomName(0), pubNick(0, 0)).textAt;
  const records = (s: number) => options.latencyFromAll || s === 0 || s === subs - 1;
  const latency = new LatencyHistogram();
  const pace: PublishPace = { running: false, ratePerPub, window: options.window, batch };
  const rooms = Array.from({ length: roomCount }, () => new RoomLoad(pace));

  const setup = await setUpClients(runtime, roomCount * perRoom, options, (i, timeoutMs) => {
    const r = Math.floor(i / perRoom);
    const room = rooms[r]!;
    const k = i % perRoom;
    const isSub = k < subs;
    // Subscribers may be spread over several nodes of a cluster; publishers use the main address.
    const at = isSub && options.subAddresses ? options.subAddresses[k % options.subAddresses.length]! : options;
    return {
      hostname: at.hostname,
      port: at.port,
      transport: options.transport,
      tls: options.tls,
      nick: isSub ? subNick(r, k) : pubNick(r, k - subs),
      room: roomName(r),
      timeoutMs,
      latency: isSub && records(k) ? latency : null,
      stampAt: isSub && ircSubs ? ircStampAt : stampAt,
      irc: isSub && ircSubs ? { publisher: pubNick(r, 0) } : undefined,
      onData: isSub ? (client, before) => room.onProgress(before, client.counter.msgs) : undefined,
    };
  }, hooks);
  const clients = setup.clients;
  const loginLoad = options.loginRate > 0 ? await prepareLogins(runtime, options, hooks) : undefined;
  // Rate mode may owe several milliseconds' worth at once after a stall.
  const capacity = ratePerPub > 0 ? Math.max(batch, Math.ceil(ratePerPub / 250)) : batch;
  rooms.forEach((room, r) => {
    const own = clients.slice(r * perRoom, (r + 1) * perRoom);
    room.subscribers.push(...own.slice(0, subs));
    for (const client of own.slice(subs)) room.addPublisher(client, new PublishFrames(roomName(r), options.textBytes, capacity));
  });
  const subscribers = rooms.flatMap((room) => room.subscribers);
  const publishers = rooms.flatMap((room) => room.publishers.map((p) => p.client));
  const recorders = subscribers.filter((_, i) => records(i % subs));
  const counts = (): LoadCounts => ({
    sent: rooms.reduce((sum, room) => sum + room.sent, 0),
    deliveries: subscribers.reduce((sum, c) => sum + c.counter.msgs, 0),
    acks: publishers.reduce((sum, c) => sum + c.counter.msgs, 0),
    bytes: subscribers.reduce((sum, c) => sum + c.bytes, 0),
  });
  /** The most messages any room has in flight (recounted, so subscribers the server closed drop out). */
  const inFlight = () =>
    rooms.reduce((most, room) => {
      room.recount();
      const n = room.inFlight();
      return Number.isFinite(n) ? Math.max(most, n) : most;
    }, 0);

  const stopKeepAlive = keepAlive(clients);
  const self = new ProcStats(runtime, "self");
  const server = options.serverPid === undefined ? undefined : new ProcStats(runtime, options.serverPid);
  const start = performance.now();
  let phase = "warm-up";
  let last = await takeSnapshot(counts, self, server);
  // Started before the ticker, so that a phase ending on a tick's boundary ends first.
  const warmup = sleep(options.warmupMs, signal);
  const stopTicker = every(1000, async () => {
    const label = phase; // the phase of the second that just ended
    const now = await takeSnapshot(counts, self, server);
    const problems = problemsOf(subscribers, publishers);
    hooks.progress?.(formatProgress((now.atMs - start) / 1000, label, ratesBetween(last, now), {
      inFlight: inFlight(),
      latency: label === "measure" ? latency : undefined,
      errors: problems.error_frames,
      closed: problems.subs_closed + problems.pubs_closed,
    }));
    last = now;
    if (problems.subs_closed === subscribers.length && problems.pubs_closed === publishers.length) ending.abort();
    for (const room of rooms) room.wake();
  });

  pace.running = true;
  loginLoad?.start();
  const stopRate = ratePerPub > 0
    ? every(1, () => {
      const elapsedMs = performance.now() - start;
      for (const room of rooms) room.keepRate(elapsedMs);
    })
    : () => {};
  for (const room of rooms) {
    room.recount();
    room.wake();
  }

  let s0: Snapshot;
  let s1: Snapshot;
  let rssKiB: number | undefined;
  let loopLagMs: number;
  let logins0: LoginCounts | undefined;
  let logins1: LoginCounts | undefined;
  try {
    await warmup;
    s0 = await takeSnapshot(counts, self, server);
    logins0 = loginLoad?.snapshot();
    takeLoopLagMs();
    phase = "measure";
    for (const client of recorders) client.recording = true;
    if (loginLoad) loginLoad.recording = true;
    await sleep(options.durationMs, signal);
    for (const client of recorders) client.recording = false;
    if (loginLoad) loginLoad.recording = false;
    logins1 = loginLoad?.snapshot();
    s1 = await takeSnapshot(counts, self, server);
    loopLagMs = takeLoopLagMs();
    rssKiB = await server?.rssKiB();
  } finally {
    pace.running = false;
    stopRate();
    stopTicker();
    await loginLoad?.stop();
  }
  const problems = problemsOf(subscribers, publishers);
  // Not cut short by an interrupt: it is bounded, and the totals are only exact once drained.
  const drained = await waitUntil(
    () => inFlight() <= 0 && rooms.every((room) => room.publishers.every((p) => !p.writing)),
    options.drainMs,
  );
  const totals = counts();
  const leftInFlight = inFlight();
  stopKeepAlive();
  for (const client of clients) client.close();
  await Promise.race([Promise.all(clients.map((c) => c.done)), sleep(2000)]);

  const result: FanoutResult = {
    scenario: options.scenario === "latency" ? "latency" : "fanout",
    target: options.transport === "ws" ? `ws://${options.hostname}:${options.port}/ws` : `${options.hostname}:${options.port}`,
    config: {
      rooms: roomCount,
      pubs_per_room: pubs,
      subs_per_room: subs,
      rate_per_pub: ratePerPub,
      window: options.window,
      batch,
      size_bytes: options.textBytes,
      warmup_s: options.warmupMs / 1000,
      duration_s: options.durationMs / 1000,
      latency_subs: recorders.length,
      sub_dialect: options.subDialect,
    },
    setup: { connections: clients.length, seconds: setup.seconds, handshake: setup.handshake },
    ...ratesBetween(s0, s1),
    loop_lag_ms: loopLagMs,
    latency: latency.summary(),
    totals: { ...totals, expected_deliveries: totals.sent * subs, drained },
    problems,
    server: { pid: options.serverPid, rss_mb: rssKiB === undefined ? undefined : rssKiB / 1024 },
    ...(loginLoad && logins0 && logins1 ? { logins: loginLoad.result(logins0, logins1, (s1.atMs - s0.atMs) / 1000) } : {}),
    interrupted: hooks.signal?.aborted ?? false,
    warnings: [],
  };
  result.warnings = fanoutWarnings(result, leftInFlight);
  return result;
}

/** Registers the accounts for `--logins` (before the load starts, so their hashes are not measured). */
async function prepareLogins(runtime: Runtime, options: BenchOptions, hooks: RunHooks): Promise<LoginLoad> {
  const loginOptions = {
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
    ratePerS: options.loginRate,
    accounts: options.loginAccounts,
    concurrency: options.loginConcurrency,
    nickPrefix: options.loginPrefix ?? options.nickPrefix,
    timeoutMs: 10_000,
  };
  const started = performance.now();
  try {
    await registerAccounts(runtime, loginOptions, hooks.signal);
  } catch (error) {
    throw new SetupError((error as Error).message);
  }
  hooks.progress?.(`registered ${options.loginAccounts} accounts in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return new LoginLoad(runtime, loginOptions);
}

/** What a reader of the numbers should be told. */
function fanoutWarnings(result: FanoutResult, leftInFlight: number): string[] {
  const warnings: string[] = [];
  const remedy = "so these are lower bounds (run it on another machine, or split the load over several bench processes)";
  // One event loop: past ~0.8 core it spends little time waiting, and the server it shares the machine with gets less.
  if (result.bench_cpu_cores !== undefined && result.bench_cpu_cores >= 0.8) {
    warnings.push(`the bench used ${result.bench_cpu_cores.toFixed(2)} cores: it may be the bottleneck, ${remedy}`);
  } else if (result.loop_lag_ms >= 250) {
    warnings.push(`the bench's event loop fell up to ${Math.round(result.loop_lag_ms)} ms behind: it may be the bottleneck, ${remedy}`);
  }
  const { problems } = result;
  if (problems.error_frames + problems.bye_frames > 0) {
    const hint = problems.first_problem?.includes("rate_limited") ? " (start the server with --rate-per-s 0)" : "";
    warnings.push(
      `the server sent ${problems.error_frames} error and ${problems.bye_frames} bye frames; first: ${problems.first_problem}${hint}`,
    );
  }
  if (problems.subs_closed + problems.pubs_closed > 0) {
    const c = result.config;
    const all = problems.subs_closed + problems.pubs_closed === c.rooms * (c.subs_per_room + c.pubs_per_room);
    warnings.push(
      `the server closed ${problems.subs_closed} subscribers and ${problems.pubs_closed} publishers` +
        (all ? ": every connection, so the run ended early" : ""),
    );
  }
  const target = result.config.rate_per_pub * result.config.pubs_per_room * result.config.rooms;
  if (target > 0 && result.pub_msgs_per_s < 0.95 * target) {
    warnings.push(`published ${Math.round(result.pub_msgs_per_s)} msgs/s of the ${target} asked for`);
  }
  if (!result.totals.drained) {
    warnings.push(`${leftInFlight} messages per room were still undelivered when the run gave up waiting`);
  }
  if (result.seconds > 0 && result.deliveries_per_s === 0) warnings.push("nothing was delivered while measuring");
  const logins = result.logins;
  if (logins && logins.logins_per_s < 0.95 * logins.rate_asked) {
    warnings.push(
      `logged in ${logins.logins_per_s.toFixed(1)}/s of the ${logins.rate_asked} asked for ` +
        `(${logins.skipped} skipped with ${logins.concurrency} in flight, ${logins.rate_limited} rate_limited, ` +
        `${logins.unavailable} unavailable, ${logins.failed} failed${logins.first_problem ? `; first: ${logins.first_problem}` : ""})`,
    );
  }
  if (result.server.pid !== undefined && result.server_cpu_cores === undefined) warnings.push(procUnreadable(result.server.pid));
  return warnings;
}
