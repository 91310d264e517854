/**
 * Start-up warm-up of the message path: before the server listens, a private
 * server on a loopback port passes a few thousand `msg` frames between two of
 * its own TCP clients, one message per event-loop turn, and is shut down.
 *
 * Why (issue 15): a fresh process runs the message path in the JIT's lower
 * tiers and compiles it to optimised code as counts build up, which at a
 * chat's pace (1000 messages/s) goes on for ten seconds or so. Every compile
 * puts a compiler thread on one of the CPUs, and on a 2-core machine a
 * message that arrives meanwhile waits: in scenario F of ../shared/bench,
 * a third to three quarters of the slow messages fell within 6 ms of a
 * finished optimising compile, against 7 % by chance. The code the warm-up
 * runs is the code clients run (the same classes, runtime sockets and write
 * scheduler), so the compiled code fits them, and the compiling is done
 * before the first client arrives.
 *
 * Nothing of it stays: its server has its own hub, memory store and stats,
 * logs nothing, and is gone before the real listener opens. By default it
 * runs on Bun only: V8 specialises optimised code on the very closures and
 * hidden classes it saw, and threw the warmed code away when real clients
 * arrived (lib/config/derived_defaults.ts).
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { HubServices } from "../hub/hub_services.ts";
import type { Conn, NetAddr, Runtime } from "../runtime/types.ts";
import { ChatServer } from "./chat_server.ts";

/** What a warm-up did. */
export interface WarmUpReport {
  /** Messages passed through (each to two members: the subscriber and the sender). */
  readonly messages: number;
  /** Wall time, start to shut-down, in ms. */
  readonly ms: number;
}

const ROOM = "warmup";
/** The most a warm-up may take before it is abandoned. */
const TIMEOUT_MS = 10_000;
/** The longest text the warm-up sends. */
const MAX_TEXT = 100;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/**
 * Passes `messages` msg frames through a private server on `settings`
 * (lent for the time: on 127.0.0.1, every other listener off, no rate
 * limits; see `borrow`) and `services` (stores of the kind the real server
 * uses, holding nothing of its own; memory ones when absent), one at a time,
 * and shuts it down. Call it before
 * the real server starts: the settings are as they were once the promise
 * settles.
 */
export async function warmUpMessagePath(
  runtime: Runtime,
  settings: Settings,
  version: string,
  messages: number,
  services: Partial<HubServices> = {},
): Promise<WarmUpReport> {
  const started = performance.now();
  const saved = borrow(settings);
  try {
    await passMessages(runtime, settings, version, messages, services);
  } finally {
    Object.assign(settings, saved);
  }
  return { messages, ms: performance.now() - started };
}

async function passMessages(
  runtime: Runtime,
  settings: Settings,
  version: string,
  messages: number,
  services: Partial<HubServices>,
): Promise<void> {
  const server = new ChatServer(runtime, settings, version, Date.now, services, { quiet: true });
  const addr = await server.start();
  const clients: WarmUpClient[] = [];
  // A warm-up that stalls (it should not) gives up rather than keep the server from listening.
  const watchdog = setTimeout(() => {
    for (const client of clients) client.abort(new Error(`warm-up took longer than ${TIMEOUT_MS} ms`));
  }, TIMEOUT_MS);
  try {
    const subscriber = await WarmUpClient.join(runtime, addr, "warmup-sub", clients);
    const publisher = await WarmUpClient.join(runtime, addr, "warmup-pub", clients);
    // Counts only grow, so a line that is not a message (the publisher's join, told to the
    // subscriber whenever it comes) only lets one wait end early: nothing can stall on it.
    const frames = messageFrames();
    for (let i = 0; i < messages; i++) {
      const toSubscriber = subscriber.lines + 1;
      const toPublisher = publisher.lines + 1;
      publisher.send(frames[i % frames.length]!);
      await subscriber.waitFor(toSubscriber);
      await publisher.waitFor(toPublisher);
    }
  } finally {
    clearTimeout(watchdog);
    for (const client of clients) client.close();
    await server.shutdown(1000);
  }
}

/**
 * What the private server changes in the settings object while it runs:
 * loopback on a free port, nothing else listening, and no limit that would
 * refuse its two clients or its messages. The settings object itself is
 * lent to the private server rather than copied, because optimised code
 * checks the hidden class of what it reads: a copy has its own, and on V8
 * the code compiled against it was thrown away (deoptimised) when real
 * clients arrived. Returns the values to put back.
 */
function borrow(settings: Settings): Partial<Settings> {
  const lent: Partial<Settings> = {
    host: "127.0.0.1",
    port: 0,
    tls_listen: "",
    irc_listen: "",
    default_room: "",
    rate_per_s: 0,
    ip_rate_per_s: 0,
    connect_rate_per_ip: 0,
    max_connections: Math.max(settings.max_connections, 2),
    per_ip_exempt_loopback: true,
    max_text: Math.max(settings.max_text, MAX_TEXT),
    max_frame: Math.max(settings.max_frame, 1024),
  };
  const saved: Partial<Settings> = {};
  for (const key of Object.keys(lent) as (keyof Settings)[]) (saved as Record<string, unknown>)[key] = settings[key];
  Object.assign(settings, lent);
  return saved;
}

/** A few msg frames the size of a chat line, some with an id (acknowledged), as clients send them. */
function messageFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    const text = `warm-up line ${i} `.padEnd(MAX_TEXT, "x");
    const id = i % 2 === 0 ? "" : `,"id":"w${i}"`;
    frames.push(encoder.encode(`{"type":"msg","room":"${ROOM}","text":"${text}"${id}}\n`));
  }
  return frames;
}

/** One client of the private server: counts the lines it is sent. */
class WarmUpClient {
  lines = 0;
  #wanted = 0;
  #wake: (() => void) | null = null;
  #fail: ((error: Error) => void) | null = null;
  #failure: Error | null = null;
  inputClosed = false;

  private constructor(readonly conn: Conn) {}

  /** Connects, says hello as `nick` and joins the room. */
  static async join(runtime: Runtime, addr: NetAddr, nick: string, all: WarmUpClient[]): Promise<WarmUpClient> {
    const client = new WarmUpClient(await runtime.connect({ hostname: addr.hostname, port: addr.port }));
    all.push(client);
    void client.conn.pipe(client).catch(() => {});
    client.send(encoder.encode(`{"type":"hello","nick":"${nick}"}\n{"type":"join","room":"${ROOM}"}\n`));
    // welcome, then room.
    await client.waitFor(2);
    return client;
  }

  /** ByteSink: counts lines. */
  onChunk(bytes: Uint8Array): void {
    for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, at + 1)) this.lines++;
    if (this.#wake !== null && this.lines >= this.#wanted) {
      const wake = this.#wake;
      this.#wake = this.#fail = null;
      wake();
    }
  }

  /** Resolves once `count` lines have arrived in all. */
  waitFor(count: number): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.lines >= count) return Promise.resolve();
    this.#wanted = count;
    return new Promise((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    });
  }

  /** Makes the pending wait, and any later one, fail with `error`. */
  abort(error: Error): void {
    this.#failure = error;
    const fail = this.#fail;
    this.#wake = this.#fail = null;
    fail?.(error);
  }

  send(bytes: Uint8Array): void {
    this.conn.write(bytes).catch(() => {});
  }

  close(): void {
    this.inputClosed = true;
    this.conn.close();
  }
}
