/**
 * The chat server: accepts connections through the runtime layer, enforces
 * connection limits, connects each {@linkcode Connection} to the hub, runs
 * one liveness sweep for all connections, and shuts down gracefully.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { Hub, type HubSink } from "../hub/hub.ts";
import type { AuditEvent, HubServices } from "../hub/hub_services.ts";
import type { Session } from "../hub/session.ts";
import { log } from "../ops/log.ts";
import { traceError } from "../ops/trace.ts";
import { LogThrottle } from "../ops/log_throttle.ts";
import { encodeJsonFrame, errorFrame, type ServerFrame } from "../protocol/server_frames.ts";
import { textGreeting } from "../protocol/text_render.ts";
import type { IrcRenderCache } from "../dialect/irc/mod.ts";
import { parseHostPort } from "./metrics_http.ts";
import type { Listener, NetAddr, Runtime } from "../runtime/types.ts";
import { AddressLimits } from "./address_limits.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { Connection, type DisconnectReason } from "./connection.ts";
import { checkLiveness, sweepIntervalMs } from "./liveness.ts";
import { PeerLimits } from "./peer_limits.ts";
import { ScryptHasher } from "./scrypt_hasher.ts";
import { MemoryAccountStore } from "../store/account_store.ts";
import { MemoryRoomStateStore } from "../store/room_state_store.ts";
import { chatActivity, ServerStats } from "./server_stats.ts";
import { IDLE_MEMORY_CHECK_MS, IdleMemory } from "./idle_memory.ts";
import { TcpTransport } from "./tcp_transport.ts";
import { TlsEndpoint } from "./tls_endpoint.ts";
import type { Transport } from "./transport.ts";
import { WriteScheduler } from "./write_scheduler.ts";
import { FanoutRuns } from "./fanout_run.ts";

/** How long a silent new connection waits before it is greeted as a person. */
export const GREETING_DELAY_MS = 250;
/** How often silent connections are checked for the greeting. */
const GREETING_PASS_MS = 50;

const logger = log("server");
const auditLogger = log("audit");
const textEncoder = new TextEncoder();

/** A running chat server. */
export class ChatServer implements HubSink<Connection> {
  readonly hub: Hub<Connection>;
  readonly stats = new ServerStats();
  readonly #scheduler = new WriteScheduler();
  /** A turn's `msg` frames to a room, queued to its members once (fanout_run.ts). */
  readonly #fanout: FanoutRuns<Connection>;
  readonly #connections = new Set<Connection>();
  /** New connections that have not sent a byte yet, oldest first: candidates for the greeting. */
  #awaitingGreeting: Connection[] = [];
  #greetingTimer: ReturnType<typeof setInterval> | undefined;
  #lastGreetingPassAt = 0;
  /** When a greeting pass last ran late (the event loop was busy). */
  #loopLateAt = 0;
  readonly #peerLimits: PeerLimits;
  /** Per-address connection rate and shared frame bucket. */
  readonly #addressLimits: AddressLimits;
  /** Refused connections are logged at most once a second in all, with a count: a connect flood cannot flood the log. */
  readonly #refusalLog = new LogThrottle();
  #listener: Listener | undefined;
  /** The TLS listener, when `tls_listen` is set. */
  #tls: TlsEndpoint | undefined;
  /** The `irc_listen` listener, when set: every connection on it speaks IRC. */
  #ircListener: Listener | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** Gives memory back after a burst once the server is quiet (see idle_memory.ts). */
  #idleMemoryTimer: ReturnType<typeof setInterval> | undefined;
  #nextId = 0;
  #shuttingDown = false;

  constructor(
    readonly runtime: Runtime,
    readonly settings: Settings,
    readonly version: string,
    readonly now: () => number = Date.now,
    services: Partial<HubServices> = {},
    /** `quiet`: logs no connects and disconnects (the start-up warm-up's private server, jit_warmup.ts). */
    readonly options: { readonly quiet?: boolean } = {},
  ) {
    const roomLog = services.roomLog ?? new MemoryStore();
    this.hub = new Hub<Connection>(settings, version, this, {
      roomLog,
      accounts: services.accounts ?? new MemoryAccountStore(),
      roomStates: services.roomStates ?? new MemoryRoomStateStore(),
      hasher: services.hasher ?? new ScryptHasher(),
      now: services.now ?? now,
    });
    // Commit the store's batch before any byte leaves (see WriteScheduler.beforeFlush).
    if (roomLog.durable) this.#scheduler.beforeFlush = () => roomLog.flush();
    this.#fanout = new FanoutRuns<Connection>(settings, () => this.#scheduler.wake());
    this.#scheduler.beforeRun = () => this.#fanout.endPass();
    this.#peerLimits = new PeerLimits(settings);
    this.#addressLimits = new AddressLimits(settings);
  }

  /** The bound address (after {@linkcode start}). */
  get addr(): NetAddr {
    if (!this.#listener) throw new Error("server not started");
    return this.#listener.addr;
  }

  /** The bound TLS address (after {@linkcode start}), when `tls_listen` is set. */
  get tlsAddr(): NetAddr | undefined {
    return this.#tls?.addr;
  }

  /** The IRC listener's bound address, when `irc_listen` is set (after {@linkcode start}). */
  get ircAddr(): NetAddr | undefined {
    return this.#ircListener?.addr;
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
    this.hub.restoreRooms(await this.hub.services.roomLog.rooms(this.settings.max_rooms));
    this.#listener = await this.runtime.listen({ hostname: this.settings.host, port: this.settings.port });
    if (this.settings.irc_listen !== "") {
      try {
        this.#ircListener = await this.runtime.listen(parseHostPort(this.settings.irc_listen));
      } catch (error) {
        this.#listener.close();
        throw error;
      }
      void this.#acceptLoop(this.#ircListener, true);
    }
    if (this.settings.tls_listen !== "") {
      try {
        this.#tls = await TlsEndpoint.start(this.runtime, this.settings);
      } catch (error) {
        this.#listener.close();
        this.#ircListener?.close();
        throw error;
      }
    }
    this.#restartSweep();
    this.#startIdleMemory();
    void this.#acceptLoop(this.#listener);
    if (this.#tls) void this.#acceptLoop(this.#tls.listener, false, "tls");
    return this.#listener.addr;
  }

  /** Call after the settings object was updated in place (a reload): re-reads what is not read on each use. */
  settingsChanged(): void {
    if (this.#sweepTimer !== undefined && !this.#shuttingDown) this.#restartSweep();
  }

  /** SIGHUP: reads the TLS certificate and key again for new connections (a bad pair is logged and the old kept). */
  reloadTls(): Promise<boolean> {
    return this.#tls?.reload() ?? Promise.resolve(false);
  }

  #startIdleMemory(): void {
    const stats = this.stats;
    const idleMemory = new IdleMemory({
      rss: () => this.runtime.memoryRss(),
      activity: () => chatActivity(stats),
      release: () => this.runtime.releaseMemory(),
      now: () => performance.now(),
    });
    this.#idleMemoryTimer = setInterval(() => {
      const release = idleMemory.check(this.settings.memory_release_growth);
      if (release === null) return;
      stats.memoryReleases++;
      logger.info("memory released while idle rss_before={rss_before} rss_after={rss_after} pause_ms={pause_ms}", {
        rss_before: release.rssBefore,
        rss_after: release.rssAfter,
        pause_ms: Math.round(release.pauseMs * 10) / 10,
      });
    }, IDLE_MEMORY_CHECK_MS);
  }

  /** Re-reads sweep timing from the settings (after a reload). */
  #restartSweep(): void {
    clearInterval(this.#sweepTimer);
    // Crowd summaries ride on the same sweep, so it runs at least twice per crowd_interval.
    const intervalMs = Math.min(sweepIntervalMs(this.settings), Math.max(50, Math.floor(this.settings.crowd_interval / 2)));
    this.#sweepTimer = setInterval(() => this.#sweep(), intervalMs);
  }

  async #acceptLoop(listener: Listener, irc = false, kind: "tcp" | "tls" = "tcp"): Promise<void> {
    try {
      for await (const conn of listener) this.accept(new TcpTransport(conn, kind), irc);
    } catch (error) {
      if (!this.#shuttingDown) logger.error("accept loop failed: {error}", { error: String(error) });
    }
  }

  /**
   * Admits a new client on any transport (TCP or TLS here, WebSocket from the
   * web listener), within the limits; `irc` when it came in on `irc_listen`.
   */
  accept(conn: Transport, irc = false): void {
    const host = conn.remoteAddr.hostname;
    const refusal = this.#shuttingDown
      ? "the server is shutting down"
      : this.#connections.size >= this.settings.max_connections
      ? "the server is full"
      : !this.#peerLimits.admits(host)
      ? `too many connections from ${host}`
      : null;
    // The connection rate is checked last, so only connections that would otherwise be served spend its tokens.
    const admission = refusal === null ? this.#addressLimits.admit(host, this.now()) : null;
    const retryAfterMs = admission?.ok === false ? admission.retryAfterMs : undefined;
    if (refusal !== null || retryAfterMs !== undefined) {
      this.stats.countDisconnect("server_full");
      this.stats.countError("server_full");
      this.stats.framesOut.error++;
      // Logged by traceError, with the trace sent.
      const message = refusal ?? `too many new connections from ${host}; retry in ${retryAfterMs} ms`;
      const frame = traceError(errorFrame("server_full", message, { retry_after_ms: retryAfterMs }), {
        conn: null,
        peer: `${host}:${conn.remoteAddr.port}`,
        nick: "-",
      }, this.#refusalLog, this.now());
      // One error line, then close: written without a queue, since nothing else will follow.
      const bytes = irc ? textEncoder.encode(`ERROR :Closing Link: ${refusal} (trace ${frame.trace})\r\n`) : encodeJsonFrame(frame);
      this.stats.bytesOut += bytes.length;
      conn.refuse(bytes);
      return;
    }
    this.#peerLimits.add(host);
    const connection = new Connection(++this.#nextId, conn, this, irc);
    if (admission?.ok) connection.session.addressBucket = admission.bucket;
    this.#connections.add(connection);
    this.stats.connectionsAccepted++;
    // Over TLS the greeting delay counts from the end of the handshake: a slow one must not
    // make a program that sends hello at once look like a silent person. A WebSocket is never greeted.
    if (conn.framed) {
      // JSON from the first message: nobody to greet.
    } else if (conn.handshake === undefined) this.#awaitGreeting(connection);
    else {
      connection.handshaking = true;
      conn.handshake.then(() => {
        connection.handshaking = false;
        if (connection.endReason === null) this.#awaitGreeting(connection);
      });
    }
    // Fields made only if debug is on: a connect burst builds no peer string per connection (issue 15).
    if (!this.options.quiet) logger.debug("connect conn={conn} peer={peer}", () => ({ ...connection.logFields, transport: conn.kind }));
    void connection.run();
  }

  /** Starts the greeting countdown of a connection that can now hear it. */
  #awaitGreeting(connection: Connection): void {
    connection.greetFrom = this.now();
    this.#awaitingGreeting.push(connection);
    if (this.#greetingTimer === undefined) {
      this.#greetingTimer = setInterval(() => this.#greet(), GREETING_PASS_MS);
      this.#lastGreetingPassAt = this.now();
    }
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
      if (connection.greetFrom > cutoff) break;
      done++;
      if (!connection.heardFrom && connection.endReason === null && connection.dialect === "unknown") {
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
    // Closed before its TLS handshake finished: garbage, a refused certificate, or a peer that gave up.
    if (connection.handshaking && reason !== "register_timeout") reason = "tls_handshake";
    this.#peerLimits.remove(connection.transport.remoteAddr.hostname);
    this.#addressLimits.release(connection.transport.remoteAddr.hostname);
    this.stats.countDisconnect(reason);
    if (this.options.quiet) return;
    logger.info("disconnect conn={conn} peer={peer} nick={nick} reason={reason}", {
      ...connection.logFields,
      reason,
      dialect: connection.dialect,
      transport: connection.transport.kind,
      ...connection.takeSuppressedLogs(),
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
          // A TLS handshake that never finished has no session to say bye over: close it now.
          if (connection.handshaking) connection.close("register_timeout");
          else connection.end("timeout");
          break;
        case "write_timeout":
          connection.dropSlowConsumer();
          break;
      }
    }
    this.hub.tick(now);
    this.#addressLimits.sweep(now);
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
    // A msg to members who all read JSON over TCP goes through the open fan-out run.
    const queued = this.#fanout.broadcast(to, frame, except);
    if (queued >= 0) {
      this.stats.framesOut[frame.type] += queued;
      if (startedAt >= 0) this.stats.fanout.queued(startedAt);
      return;
    }
    let json: Uint8Array | undefined;
    let jsonSent = 0;
    let irc: IrcRenderCache | undefined;
    for (const session of to) {
      if (session === except) continue;
      const connection = session.peer;
      if (connection.dialect === "json") {
        connection.enqueue(json ??= encodeJsonFrame(frame));
        jsonSent++;
      } else connection.sendFrame(frame, connection.dialect === "irc" ? (irc ??= new Map()) : undefined); // Counts itself.
    }
    this.stats.framesOut[frame.type] += jsonSent;
    if (startedAt >= 0) this.stats.fanout.queued(startedAt);
  }

  /** HubSink: a login or logout after hello, told to IRC neighbours with account-notify. */
  accountChanged(subject: Session<Connection>, to: Iterable<Session<Connection>>): void {
    for (const session of to) if (session !== subject && session.peer.dialect === "irc") session.peer.noteAccount(subject);
  }

  /** HubSink: every moderation and account action is logged (who, what, whom, where, why) and counted. */
  audit(event: AuditEvent, actor?: Session<Connection>): void {
    this.stats.countAudit(event.action);
    auditLogger[event.quiet ? "debug" : "info"]("{action} by={by} target={target} room={room} reason={reason}", {
      // The connection id and peer address too, so a guessing address can be found and blocked.
      ...(actor ? actor.peer.logFields : {}),
      action: event.action,
      by: event.by,
      target: event.target ?? "-",
      room: event.room ?? "-",
      reason: event.reason ?? "-",
    });
  }

  /** HubSink: close after what is queued has been written. */
  close(session: Session<Connection>, reason: DisconnectReason): void {
    session.peer.closeAfterFlush(reason);
  }

  /** Stops accepting (new connections are refused by the OS) and reports not ready from now on. */
  stopAccepting(): void {
    this.#shuttingDown = true;
    this.#listener?.close();
    this.#tls?.close();
    this.#ircListener?.close();
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
    // A TLS handshake still under way has nobody to tell: do not let it hold the drain.
    for (const connection of [...this.#connections]) if (connection.handshaking) connection.close("shutdown");
    const deadline = started + graceMs;
    while (this.#connections.size > 0 && this.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const forced = this.#connections.size;
    for (const connection of [...this.#connections]) connection.close("shutdown");
    clearInterval(this.#sweepTimer);
    clearInterval(this.#greetingTimer);
    clearInterval(this.#idleMemoryTimer);
    return { told, drainedMs: this.now() - started, forced };
  }
}
