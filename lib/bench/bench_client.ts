/**
 * One bench connection: connects, registers and joins a room in one write
 * (`hello` and `join` pipelined), waits for the room snapshot, then counts
 * everything it receives with a {@linkcode FrameCounter}. Only the handshake
 * parses JSON; the steady state never does.
 *
 * @module
 */

import type { Conn, Runtime } from "../runtime/types.ts";
import { FrameCounter, ircMsgOffsets } from "./frame_counter.ts";
import type { LatencyHistogram } from "./histogram.ts";
import { pollTimers } from "./phases.ts";
import { nowMicros } from "./stamp.ts";
import { connectWebSocket } from "./ws_conn.ts";

const LF = 0x0a;
/** A handshake line longer than this (a huge room snapshot) fails the set-up. */
const MAX_HANDSHAKE_BYTES = 16 * 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where and as whom a {@linkcode BenchClient} connects. */
export interface BenchClientOptions {
  hostname: string;
  port: number;
  /** `ws`: the address is the server's `http_listen`, and the client speaks WebSocket on `/ws`. */
  transport?: "tcp" | "ws";
  nick: string;
  room: string;
  /** Gives up the handshake after this long. */
  timeoutMs: number;
  /** Receives message latencies while {@linkcode BenchClient.recording} is on; null for none. */
  latency: LatencyHistogram | null;
  /** Offset of the text in this run's `msg` lines (see `msgTextOffset`), or in IRC PRIVMSG lines. */
  stampAt: number;
  /** Connect over TLS (see {@linkcode BenchOptions.tls}); plain TCP when absent. */
  tls?: { ca?: string; insecure?: boolean };
  /** IRC subscribers: the publishers' nick and room, to find PRIVMSG and the text in their lines. */
  irc?: { publisher: string };
  /** Called after each received chunk once set up, with the `msg` count before it (the publishers' pump listens). */
  onData?: (client: BenchClient, msgsBefore: number) => void;
}

/** Why a bench connection could not be set up. */
export class SetupError extends Error {}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * A registered connection that is a member of one room.
 *
 * @example
 * ```ts
 * const client = await BenchClient.open(runtime, { hostname: "127.0.0.1", port: 7777,
 *   nick: "b1", room: "bench0", timeoutMs: 5000, latency: null, stampAt: 0 });
 * client.counter.msgs; // grows as messages arrive
 * client.close();
 * ```
 */
export class BenchClient {
  /** What this connection received since set-up. */
  readonly counter: FrameCounter;
  /** Bytes received since set-up. */
  bytes = 0;
  /** Whether received messages' latency is recorded now. */
  recording = false;
  /** True when the server (or the network) ended the connection before {@linkcode close}. */
  closedByPeer = false;
  /** The server's heartbeat interval from `welcome`: silent longer than this and it pings, then times out. */
  heartbeatMs = Infinity;
  /** Settles when the read loop has ended. */
  readonly done: Promise<void>;
  readonly #conn: Conn;
  readonly #options: BenchClientOptions;
  readonly #records: boolean;
  #closing = false;
  #phase: "handshake" | "ready" | "failed" = "handshake";
  #partial: Uint8Array = new Uint8Array(0);
  #settle!: (error?: Error) => void;
  readonly #handshake: Promise<void>;

  private constructor(conn: Conn, options: BenchClientOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#records = options.latency !== null;
    this.counter = options.irc
      ? new FrameCounter(options.latency, options.stampAt, ircMsgOffsets(options.room, options.irc.publisher).commandAt)
      : new FrameCounter(options.latency, options.stampAt);
    this.#handshake = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
    // Whoever awaits it sees the failure; a failure nobody awaits any more is not unhandled.
    this.#handshake.catch(() => {});
    this.done = this.#readLoop();
  }

  /** Connects, registers `nick` and joins `room`; resolves once the room snapshot arrived. */
  static async open(runtime: Runtime, options: BenchClientOptions): Promise<BenchClient> {
    const target = { hostname: options.hostname, port: options.port };
    const conn = options.transport === "ws"
      ? await connectWebSocket(runtime, options.hostname, options.port, options.tls)
      : options.tls
      ? await runtime.connectTls({ ...target, ...options.tls })
      : await runtime.connect(target);
    conn.setNoDelay(true);
    const client = new BenchClient(conn, options);
    const timer = setTimeout(
      () => client.#fail(`no room snapshot within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    try {
      await conn.write(encoder.encode(
        options.irc
          ? `NICK ${options.nick}\r\nUSER ${options.nick} 0 * :tcpchat-bench\r\nJOIN #${options.room}\r\n`
          : `${JSON.stringify({ type: "hello", nick: options.nick, client: "tcpchat-bench" })}\n` +
            `${JSON.stringify({ type: "join", room: options.room })}\n`,
      ));
      await client.#handshake;
    } catch (error) {
      client.close();
      throw error instanceof SetupError ? error : new SetupError(`${options.nick}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** A line that keeps this connection from timing out, in its dialect. */
  get pingBytes(): Uint8Array {
    return this.#options.irc ? IRC_PING : PING;
  }

  /** Sends bytes; resolves once the runtime took them all (the buffer may be reused then). */
  write(bytes: Uint8Array): Promise<void> {
    return this.#conn.write(bytes);
  }

  /** Closes the connection (not counted as closed by the server). Idempotent. */
  close(): void {
    this.#closing = true;
    this.#conn.close();
  }

  #fail(reason: string): void {
    if (this.#phase !== "handshake") return;
    this.#phase = "failed";
    this.#settle(new SetupError(`${this.#options.nick}: ${reason}`));
  }

  async #readLoop(): Promise<void> {
    try {
      for await (const chunk of this.#conn.readable) {
        pollTimers();
        let rest = chunk;
        if (this.#phase === "failed") continue;
        if (this.#phase === "handshake") {
          const at = this.#readHandshake(chunk);
          if (at < 0) continue;
          rest = chunk.subarray(at);
        }
        this.bytes += rest.length;
        const before = this.counter.msgs;
        this.counter.feed(rest, this.#records && this.recording ? nowMicros() : -1);
        this.#options.onData?.(this, before);
      }
    } catch {
      // A reset ends the stream like an end of file; either way the connection is gone.
    }
    if (!this.#closing) this.closedByPeer = true;
    this.#fail("the server closed the connection during set-up");
  }

  /**
   * Consumes handshake lines; returns where the steady state starts in `chunk`, or -1.
   * (Not `LineSplitter`: the bytes after the snapshot line must go to the counter as they are.)
   */
  #readHandshake(chunk: Uint8Array): number {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        this.#partial = concat(this.#partial, chunk.subarray(start));
        if (this.#partial.length > MAX_HANDSHAKE_BYTES) this.#fail("handshake line too long");
        return -1;
      }
      const line = this.#partial.length > 0 ? concat(this.#partial, chunk.subarray(start, lf)) : chunk.subarray(start, lf);
      this.#partial = new Uint8Array(0);
      start = lf + 1;
      if (this.#handshakeLine(decoder.decode(line))) return this.#phase === "ready" ? start : -1;
    }
  }

  /** Handles one handshake line; true when the handshake is over (done or failed). */
  #handshakeLine(text: string): boolean {
    if (this.#options.irc) return this.#ircHandshakeLine(text);
    let frame: { type?: unknown; room?: unknown; heartbeat?: { interval_ms?: unknown } } | null;
    try {
      frame = JSON.parse(text);
    } catch {
      return false; // the text greeting, if the server sent it first
    }
    if (typeof frame !== "object" || frame === null) return false;
    if (frame.type === "welcome" && typeof frame.heartbeat?.interval_ms === "number") {
      this.heartbeatMs = frame.heartbeat.interval_ms;
    }
    if (frame.type === "room" && frame.room === this.#options.room) {
      this.#phase = "ready";
      this.#settle();
      return true;
    }
    if (frame.type === "error" || frame.type === "bye") {
      this.#fail(`the server answered ${text.slice(0, 200)}`);
      return true;
    }
    return false;
  }

  /** IRC: the end of NAMES for the room is the snapshot; ERROR or an error numeric fails the set-up. */
  #ircHandshakeLine(text: string): boolean {
    const { nick, room } = this.#options;
    if (text.includes(` 366 ${nick} #${room} `)) {
      this.#phase = "ready";
      this.#settle();
      return true;
    }
    // 422 (no MOTD) is part of a normal registration; other 4xx and 5xx numerics are refusals.
    if (text.startsWith("ERROR ") || /^:\S+ (?!422)[45]\d\d /.test(text)) {
      this.#fail(`the server answered ${text.slice(0, 200)}`);
      return true;
    }
    return false;
  }
}

/**
 * Opens `count` clients, `concurrency` set-ups at a time, in index order.
 * Each one's connect-to-snapshot time goes to `setupTimes`. On the first
 * failure, or when `signal` aborts, the others are closed and a
 * {@linkcode SetupError} is thrown.
 */
export async function openClients(
  runtime: Runtime,
  count: number,
  concurrency: number,
  optionsFor: (index: number) => BenchClientOptions,
  setupTimes: LatencyHistogram,
  signal?: AbortSignal,
): Promise<BenchClient[]> {
  const clients: BenchClient[] = new Array(count);
  let next = 0;
  let failure: Error | undefined;
  const worker = async () => {
    while (failure === undefined && next < count) {
      if (signal?.aborted) {
        failure = new Error("interrupted");
        break;
      }
      const index = next++;
      const startUs = nowMicros();
      try {
        clients[index] = await BenchClient.open(runtime, optionsFor(index));
        setupTimes.record(nowMicros() - startUs);
      } catch (error) {
        failure ??= error as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) {
    for (const client of clients) client?.close();
    const opened = clients.filter(Boolean).length;
    throw new SetupError(`set-up failed after ${opened} of ${count} connections: ${failure.message}`);
  }
  return clients;
}

const PING = encoder.encode('{"type":"ping"}\n');
const IRC_PING = encoder.encode("PING :bench\r\n");

/**
 * Keeps silent connections from being timed out by the server's heartbeat:
 * every half of the shortest heartbeat interval, each client sends a `ping`
 * (any line counts as activity). Returns a function that stops it.
 */
export function keepAlive(clients: BenchClient[]): () => void {
  const intervalMs = clients.reduce((least, c) => Math.min(least, c.heartbeatMs), Infinity) / 2;
  if (!Number.isFinite(intervalMs)) return () => {};
  const timer = setInterval(() => {
    for (const client of clients) if (!client.closedByPeer) client.write(client.pingBytes).catch(() => {});
  }, Math.max(100, intervalMs));
  return () => clearInterval(timer);
}
