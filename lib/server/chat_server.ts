/**
 * The chat server: accepts connections through the runtime layer, enforces
 * connection limits, connects each {@linkcode Connection} to the hub, runs
 * one liveness sweep for all connections, and shuts down gracefully.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { Hub, type HubSink } from "../hub/hub.ts";
import type { Session } from "../hub/session.ts";
import { log } from "../ops/log.ts";
import { traceError } from "../ops/trace.ts";
import { encodeJsonFrame, errorFrame, type ServerFrame } from "../protocol/server_frames.ts";
import { textGreeting } from "../protocol/text_render.ts";
import type { Conn, Listener, NetAddr, Runtime } from "../runtime/types.ts";
import type { RoomLog } from "../store/types.ts";
import { Connection, type DisconnectReason } from "./connection.ts";
import { checkLiveness, sweepIntervalMs } from "./liveness.ts";
import { PeerLimits } from "./peer_limits.ts";
import { ServerStats } from "./server_stats.ts";
import { WriteScheduler } from "./write_scheduler.ts";

/** How long a silent new connection waits before it is greeted as a person. */
export const GREETING_DELAY_MS = 250;
/** How often silent connections are checked for the greeting. */
const GREETING_PASS_MS = 50;

const logger = log("server");
const textEncoder = new TextEncoder();

/** A running chat server. */
export class ChatServer implements HubSink<Connection> {
  readonly hub: Hub<Connection>;
  readonly stats = new ServerStats();
  readonly #scheduler = new WriteScheduler();
  readonly #connections = new Set<Connection>();
  /** New connections that have not sent a byte yet, oldest first: candidates for the greeting. */
  #awaitingGreeting: Connection[] = [];
  #greetingTimer: ReturnType<typeof setInterval> | undefined;
  #lastGreetingPassAt = 0;
  /** When a greeting pass last ran late (the event loop was busy). */
  #loopLateAt = 0;
  readonly #peerLimits: PeerLimits;
  #listener: Listener | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #nextId = 0;
  #shuttingDown = false;

  constructor(
    readonly runtime: Runtime,
    readonly settings: Settings,
    readonly version: string,
    readonly now: () => number = Date.now,
    store?: RoomLog,
  ) {
    this.hub = new Hub<Connection>(settings, version, this, store);
    // Commit the store's batch before any byte leaves (see WriteScheduler.beforeFlush).
    if (store?.durable) this.#scheduler.beforeFlush = () => store.flush();
    this.#peerLimits = new PeerLimits(settings);
  }

  /** The bound address (after {@linkcode start}). */
  get addr(): NetAddr {
    if (!this.#listener) throw new Error("server not started");
    return this.#listener.addr;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Whether shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Whether the server accepts connections: started and not shutting down (and `readyToo` says so). */
  get ready(): boolean {
    return this.#listener !== undefined && !this.#shuttingDown && this.readyToo();
  }

  /** A further condition for {@linkcode ready} (a cluster node: Redis is reachable). */
  readyToo: () => boolean = () => true;
  /** More metric families for `/metrics` (a cluster node's). */
  moreMetrics: (() => string) | undefined;

  /** The open connections (for metrics and the lame-duck drain); do not modify. */
  get openConnections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** Binds the listener and starts accepting. */
  async start(): Promise<NetAddr> {
    this.hub.restoreRooms(await this.hub.store.rooms(this.settings.max_rooms));
    this.#listener = await this.runtime.listen({ hostname: this.settings.host, port: this.settings.port });
    this.#restartSweep();
    void this.#acceptLoop(this.#listener);
    return this.#listener.addr;
  }

  /** Call after the settings object was updated in place (a reload): re-reads what is not read on each use. */
  settingsChanged(): void {
    if (this.#sweepTimer !== undefined && !this.#shuttingDown) this.#restartSweep();
  }

  /** Re-reads sweep timing from the settings (after a reload). */
  #restartSweep(): void {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = setInterval(() => this.#sweep(), sweepIntervalMs(this.settings));
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    try {
      for await (const conn of listener) this.#accept(conn);
    } catch (error) {
      if (!this.#shuttingDown) logger.error("accept loop failed: {error}", { error: String(error) });
    }
  }

  #accept(conn: Conn): void {
    const host = conn.remoteAddr.hostname;
    const refusal = this.#shuttingDown
      ? "the server is shutting down"
      : this.#connections.size >= this.settings.max_connections
      ? "the server is full"
      : !this.#peerLimits.admits(host)
      ? `too many connections from ${host}`
      : null;
    if (refusal !== null) {
      this.stats.countDisconnect("server_full");
      this.stats.countError("server_full");
      this.stats.framesOut.error++;
      // Logged by traceError, with the trace sent.
      const frame = traceError(errorFrame("server_full", refusal), {
        conn: null,
        peer: `${host}:${conn.remoteAddr.port}`,
        nick: "-",
      });
      // One error line, then close: written without a queue, since nothing else will follow.
      const bytes = encodeJsonFrame(frame);
      this.stats.bytesOut += bytes.length;
      conn.write(bytes).finally(() => conn.close()).catch(() => {});
      return;
    }
    this.#peerLimits.add(host);
    const connection = new Connection(++this.#nextId, conn, this);
    this.#connections.add(connection);
    this.stats.connectionsAccepted++;
    conn.setNoDelay(true);
    this.#awaitingGreeting.push(connection);
    if (this.#greetingTimer === undefined) {
      this.#greetingTimer = setInterval(() => this.#greet(), GREETING_PASS_MS);
      this.#lastGreetingPassAt = this.now();
    }
    logger.debug("connect conn={conn} peer={peer}", connection.logFields);
    void connection.run();
  }

  /** Greets people: connections that stayed silent for GREETING_DELAY_MS get the text greeting. */
  #greet(): void {
    const now = this.now();
    // A late pass means the event loop is busy: a program's hello may be waiting unread in its
    // socket, and greeting it would send it a non-JSON line. Greet only once the loop has kept
    // time for a whole greeting delay, so pending reads have run first.
    if (now - this.#lastGreetingPassAt > 1.5 * GREETING_PASS_MS) this.#loopLateAt = now;
    this.#lastGreetingPassAt = now;
    if (now - this.#loopLateAt < GREETING_DELAY_MS) return;
    const cutoff = now - GREETING_DELAY_MS;
    let done = 0;
    for (const connection of this.#awaitingGreeting) {
      if (connection.connectedAt > cutoff) break;
      done++;
      if (!connection.heardFrom && connection.endReason === null) {
        connection.enqueue(textEncoder.encode(textGreeting(this.settings.server_name) + "\r\n"));
      }
    }
    this.#awaitingGreeting = this.#awaitingGreeting.slice(done);
    if (this.#awaitingGreeting.length === 0) {
      clearInterval(this.#greetingTimer);
      this.#greetingTimer = undefined;
    }
  }

  /** ConnectionContext: bookkeeping once a socket is closed. */
  onClosed(connection: Connection, reason: DisconnectReason): void {
    if (!this.#connections.delete(connection)) return;
    this.#peerLimits.remove(connection.conn.remoteAddr.hostname);
    this.stats.countDisconnect(reason);
    logger.info("disconnect conn={conn} peer={peer} nick={nick} reason={reason}", {
      ...connection.logFields,
      reason,
      dialect: connection.dialect,
    });
  }

  /** ConnectionContext: the write scheduler. */
  get scheduler(): WriteScheduler {
    return this.#scheduler;
  }

  /** Applies the liveness rules to every connection. */
  #sweep(): void {
    const now = this.now();
    for (const connection of this.#connections) {
      if (connection.lingerDeadline > 0) {
        if (now >= connection.lingerDeadline) connection.close(connection.endReason ?? "disconnect");
        continue;
      }
      if (connection.endReason !== null) continue;
      switch (checkLiveness(connection, this.settings, now)) {
        case "ok":
          break;
        case "ping":
          connection.ping(now);
          break;
        case "timeout":
          this.stats.heartbeatTimeouts++;
          connection.end("timeout");
          break;
        case "register_timeout":
          connection.endReason = "register_timeout";
          connection.end("timeout");
          break;
        case "write_timeout":
          connection.dropSlowConsumer();
          break;
      }
    }
  }

  // HubSink: the hub's output becomes bytes in connection queues.

  /** HubSink: one frame to one session. */
  send(to: Session<Connection>, frame: ServerFrame): void {
    if (frame.type === "error") to.peer.sendError(frame);
    else to.peer.sendFrame(frame);
  }

  /** HubSink: the same frame to many; JSON recipients share one encoding. */
  broadcast(to: Iterable<Session<Connection>>, frame: ServerFrame, except?: Session<Connection>): void {
    const startedAt = frame.type === "msg" ? performance.now() : -1;
    let json: Uint8Array | undefined;
    let jsonSent = 0;
    for (const session of to) {
      if (session === except) continue;
      const connection = session.peer;
      if (connection.dialect === "json") {
        connection.enqueue(json ??= encodeJsonFrame(frame));
        jsonSent++;
      } else connection.sendFrame(frame); // Counts itself.
    }
    this.stats.framesOut[frame.type] += jsonSent;
    if (startedAt >= 0) this.stats.fanout.queued(startedAt);
  }

  /** HubSink: close after what is queued has been written. */
  close(session: Session<Connection>, reason: DisconnectReason): void {
    session.peer.closeAfterFlush(reason);
  }

  /** Stops accepting (new connections are refused by the OS) and reports not ready from now on. */
  stopAccepting(): void {
    this.#shuttingDown = true;
    this.#listener?.close();
  }

  /**
   * Graceful shutdown: stop accepting, say `bye` `shutdown` to everyone,
   * flush, close; anything still open after `shutdown_grace` is closed hard.
   * Resolves with how many clients were told and how long it took.
   */
  async shutdown(graceMs = this.settings.shutdown_grace): Promise<{ told: number; drainedMs: number; forced: number }> {
    const started = this.now();
    this.stopAccepting();
    const told = this.hub.shutdown();
    const deadline = started + graceMs;
    while (this.#connections.size > 0 && this.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const forced = this.#connections.size;
    for (const connection of [...this.#connections]) connection.close("shutdown");
    clearInterval(this.#sweepTimer);
    clearInterval(this.#greetingTimer);
    return { told, drainedMs: this.now() - started, forced };
  }
}
