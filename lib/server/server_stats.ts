/**
 * Counters the server keeps about itself: frames and bytes each way, errors,
 * every disconnect by reason, timeouts, slow consumers, fan-out latency. The
 * metrics endpoint and tests read them.
 *
 * Counting sits on the hot path, so it is plain integer increments on fields
 * and fixed-shape objects made once here: no Map lookup, allocation or label
 * text per delivery. Labels are formatted only when `/metrics` is scraped.
 *
 * @module
 */
import { CLIENT_FRAME_SCHEMAS, type ClientFrameType } from "../protocol/client_frames.ts";
import type { ServerFrame } from "../protocol/server_frames.ts";

/** Server frame types, as a fixed-shape zeroed counter record (the compiler checks it is complete). */
const SERVER_FRAME_COUNTS = {
  welcome: 0,
  room: 0,
  history: 0,
  join: 0,
  leave: 0,
  nick: 0,
  left: 0,
  msg: 0,
  dm: 0,
  who: 0,
  rooms: 0,
  presence: 0,
  ping: 0,
  pong: 0,
  error: 0,
  bye: 0,
  account: 0,
  topic: 0,
  mode: 0,
  role: 0,
  ban: 0,
  bans: 0,
  invite: 0,
  crowd: 0,
} satisfies Record<ServerFrame["type"], number>;

/** Upper bounds (seconds) of the fan-out latency histogram's buckets. */
export const FANOUT_BUCKETS_S: readonly number[] = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
];

/**
 * Fan-out latency: from the start of a `msg` broadcast (the line is parsed and
 * sequenced) to the end of the write pass that hands its bytes to the sockets
 * of every member with no write already in flight. The write scheduler runs in
 * a microtask queued during the broadcast, so a microtask queued after it runs
 * once that pass is done. Several messages broadcast in one task are timed
 * from the first of them and each counted.
 */
export class FanoutHistogram {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: number[] = new Array(FANOUT_BUCKETS_S.length + 1).fill(0);
  count = 0;
  sumSeconds = 0;
  #startedAt = 0;
  #messages = 0;
  readonly #finish = () => {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    let i = 0;
    while (i < FANOUT_BUCKETS_S.length && seconds > FANOUT_BUCKETS_S[i]) i++;
    this.buckets[i] += this.#messages;
    this.count += this.#messages;
    this.sumSeconds += seconds * this.#messages;
    this.#messages = 0;
  };

  /** A `msg` broadcast that started at `startedAt` (performance.now()) has queued its bytes. */
  queued(startedAt: number): void {
    if (this.#messages++ === 0) {
      this.#startedAt = startedAt;
      queueMicrotask(this.#finish);
    }
  }
}

/** Server-wide counters. */
export class ServerStats {
  connectionsAccepted = 0;
  heartbeatTimeouts = 0;
  /** Connections closed because their queue or a write fell too far behind. */
  slowConsumers = 0;
  /** Bytes read from clients. */
  bytesIn = 0;
  /** Bytes handed to client sockets. */
  bytesOut = 0;
  /** Full collections run to give memory back while idle (see idle_memory.ts). */
  memoryReleases = 0;
  /** Frames received by type (JSON frames and text commands alike). */
  readonly framesIn: Record<ClientFrameType, number> = Object.fromEntries(
    Object.keys(CLIENT_FRAME_SCHEMAS).map((type) => [type, 0]),
  ) as Record<ClientFrameType, number>;
  /** Frames queued to clients by type, one per recipient. */
  readonly framesOut: Record<ServerFrame["type"], number> = { ...SERVER_FRAME_COUNTS };
  /** Error frames sent, by code. */
  readonly errors = new Map<string, number>();
  /** Disconnects by reason (quit, timeout, slow_consumer, flood, reset, ...). */
  readonly disconnects = new Map<string, number>();
  readonly fanout = new FanoutHistogram();
  /** Moderation actions (kick, ban, topic, ...) and account events (register, login_failed, ...), by action. */
  readonly audit = new Map<string, number>();

  /** Counts one moderation or account action. */
  countAudit(action: string): void {
    this.audit.set(action, (this.audit.get(action) ?? 0) + 1);
  }

  /** Counts one disconnect. */
  countDisconnect(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }

  /** Counts one error frame sent. */
  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

/**
 * A count that moves whenever a client connects or a frame other than a
 * heartbeat is handled, or a chat message is delivered (also one from another
 * node): what "the server is busy" means to the idle memory release.
 */
export function chatActivity(stats: ServerStats): number {
  let n = stats.connectionsAccepted + stats.framesOut.msg + stats.framesOut.dm;
  for (const type in stats.framesIn) {
    if (type !== "ping" && type !== "pong") n += stats.framesIn[type as ClientFrameType];
  }
  return n;
}
