/**
 * The runtime layer's one interface. Everything above `lib/runtime/` talks to
 * sockets, HTTP, signals and files only through these types, so the same hub,
 * framing and heartbeat code runs on Deno, Bun and Node.
 *
 * Shapes follow `Deno.Listener` / `Deno.Conn` (pull-read, awaited write) with
 * backpressure carried by the `write` promise; `Conn.pipe` is the push-style
 * read the server uses (one sink object, no promise per chunk).
 *
 * @module
 */

/**
 * What {@linkcode Conn.write} may return when the socket took every byte at
 * once (Bun and Node often can): an already-resolved promise that callers may
 * recognise and carry on synchronously, saving a promise and a reaction per
 * write (issue 15). A write returns it only when every byte was taken.
 */
export const WRITTEN: Promise<void> = Promise.resolve();

/** A TCP address. `port` is the real port even when 0 was asked for. */
export interface NetAddr {
  /** Numeric IP address, e.g. `127.0.0.1` or `::1`. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/**
 * Why a connection ended, reported once by {@linkcode Conn.closed}:
 * - `eof`: the peer closed cleanly (FIN) and both sides are done;
 * - `reset`: the peer reset the connection (RST, EPIPE, ECONNRESET);
 * - `local`: this side called {@linkcode Conn.close};
 * - an `Error`: anything else the runtime reported.
 */
export type CloseReason = "eof" | "reset" | "local" | Error;

/**
 * Where {@linkcode Conn.pipe} pushes the peer's bytes: one object per
 * connection (the server's connection itself), so reading costs no closure,
 * promise or iterator per connection or per chunk.
 */
export interface ByteSink {
  /** One chunk, in order; the sink may keep it. Handle it synchronously: the next read waits for nothing else. */
  onChunk(bytes: Uint8Array): void;
  /** True once the sink wants no more input: reading stops (checked before each chunk). */
  readonly inputClosed: boolean;
}

/** One TCP connection. */
export interface Conn {
  /**
   * The bytes the peer sends, chunk by chunk, ending when the peer half-closes
   * or the connection ends. Reading is paused while the consumer is not
   * pulling, so a fast sender cannot grow this side's memory. Use either this
   * or {@linkcode Conn.pipe}, once.
   */
  readonly readable: AsyncIterable<Uint8Array>;
  /**
   * Pushes the peer's bytes to `sink`, chunk by chunk, until the peer
   * half-closes, the connection ends or fails, or `sink.inputClosed`. The
   * promise then resolves, always with `true` (so a caller may hand it on as
   * "the read side is over"); it never rejects: `closed` says why. The
   * callback form of `readable` (issue 15): on Deno it replaces an async
   * generator, its requests and a promise per chunk with one reaction per
   * read, the largest part of an idle connection's heap. Use either this or
   * `readable`, once.
   */
  pipe(sink: ByteSink): Promise<true>;
  /**
   * Queues `bytes` and resolves once the runtime has taken every byte (never
   * drops a tail). Rejects if the connection is closed before then. Writes
   * are taken in call order.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends FIN after pending writes; the peer may keep sending. */
  closeWrite(): Promise<void>;
  /** Closes both directions at once; pending writes are abandoned. Idempotent. */
  close(): void;
  /** Settles once, with the reason, when the connection is fully closed. Never rejects. */
  readonly closed: Promise<CloseReason>;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Disables (true) or enables Nagle's algorithm. */
  setNoDelay(noDelay?: boolean): void;
  /** Turns TCP keepalive on or off. */
  setKeepAlive(keepAlive?: boolean): void;
  /**
   * TLS connections only (absent on plain TCP): settles once the TLS
   * handshake has completed. Never rejects: a failed handshake closes the
   * connection (see `closed`) and leaves this pending.
   */
  readonly handshake?: Promise<void>;
}

/** A listening TCP socket: iterate it to accept connections. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address, with the real port. */
  readonly addr: NetAddr;
  /** Stops accepting; ends the iteration. Open connections stay open. Idempotent. */
  close(): void;
}

/** Options for {@linkcode Runtime.listen} and {@linkcode Runtime.connect}. */
export interface ListenOptions {
  /** Address to bind or reach, e.g. `127.0.0.1`. */
  hostname: string;
  /** Port; 0 picks a free port when listening. */
  port: number;
}

/** Where to serve HTTP; with `tls`, HTTPS (and `wss:`) with that pair. */
export interface HttpListenOptions extends ListenOptions {
  /** Serve HTTPS with this certificate pair (TLS 1.2+); plain HTTP when absent. */
  tls?: CertificatePair;
}

/** A certificate chain and its private key, both PEM text. */
export interface CertificatePair {
  /** The server certificate, then any intermediates (PEM). */
  cert: string;
  /** The private key of the first certificate (PEM, unencrypted). */
  key: string;
}

/** Options for {@linkcode Runtime.listenTls}. */
export interface TlsListenOptions extends ListenOptions, CertificatePair {}

/**
 * A TLS listener. Connections are yielded as soon as TCP accepts them, before
 * the handshake (see {@linkcode Conn.handshake}), so a caller can count and
 * time out handshakes that never finish. TLS 1.2 is the minimum version.
 */
export interface TlsListener extends Listener {
  /**
   * Uses `pair` for connections accepted from now on (open ones keep theirs).
   * Throws a {@linkcode NetError}-shaped error (`code` `bad_certificate`) when
   * the PEM cannot be read or the key does not belong to the certificate; the
   * pair in use is then unchanged.
   */
  setCertificate(pair: CertificatePair): void;
}

/** Options for {@linkcode Runtime.connectTls}. */
export interface TlsConnectOptions extends ListenOptions {
  /** Name the server certificate must carry (and SNI when it is a DNS name); defaults to `hostname`. */
  serverName?: string;
  /** PEM text of the CA certificates to trust instead of the system's roots. */
  ca?: string;
  /** Accepts any certificate, unchecked (testing only). */
  insecure?: boolean;
}

/** A `fetch`-style HTTP handler. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** A running HTTP server. */
export interface HttpServer {
  /** The bound address, with the real port. */
  readonly addr: NetAddr;
  /** Stops the server. */
  close(): Promise<void>;
  /**
   * Present when served over HTTPS: uses `pair` for connections accepted from
   * now on (open ones keep theirs). Rejects with `code` `bad_certificate`
   * when the pair is unusable; the pair in use is then unchanged.
   */
  setCertificate?(pair: CertificatePair): Promise<void>;
}

/**
 * How a WebSocket ended, reported once by {@linkcode WsPeer.closed}: the
 * close status (1005 when the peer sent none, 1006 when the TCP connection
 * dropped without a close frame) and whether this side closed first.
 */
export interface WsClosed {
  /** The WebSocket close status. */
  code: number;
  /** True when this side called {@linkcode WsPeer.close} first. */
  local: boolean;
}

/**
 * One WebSocket connection, the same shape on every runtime (modelled on
 * crossws' peer). Messages are pushed to `onMessage` in order: a string for a
 * text message, a `Uint8Array` for a binary one. A message over the
 * server's `maxMessageBytes` closes the socket with 1009 before reaching it.
 */
export interface WsPeer {
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Receives each message (set it at once in `open`; messages before that are dropped). */
  onMessage: ((message: string | Uint8Array) => void) | null;
  /** Sends one text message; never blocks (the runtime buffers it, see `bufferedAmount`). */
  sendText(text: string): void;
  /**
   * Sends several text messages, in order, in as few socket writes as the
   * runtime allows (one per message would cost a system call each).
   */
  sendTexts(texts: readonly string[]): void;
  /** Bytes handed to `sendText` that the runtime has not yet written to the socket. */
  readonly bufferedAmount: number;
  /** Starts the closing handshake with `code` and a short `reason`. Idempotent. */
  close(code: number, reason?: string): void;
  /**
   * Drops the connection at once, without waiting for the peer's half of the
   * closing handshake (a peer that stopped reading never sends it); `closed`
   * settles now. Idempotent.
   */
  terminate(): void;
  /** Settles once, when the socket is closed. Never rejects. */
  readonly closed: Promise<WsClosed>;
}

/** WebSocket upgrades on one path of an {@linkcode HttpServer}. */
export interface WebSocketOptions {
  /** The request path that upgrades, e.g. `/ws`; other paths go to the HTTP handler. */
  path: string;
  /** Larger messages close the socket with 1009 (message too big). */
  maxMessageBytes: number;
  /** Checks an upgrade request: a `Response` refuses it (e.g. 403), `undefined` accepts. */
  check(request: Request): Response | undefined;
  /** A new peer, after the handshake. */
  open(peer: WsPeer): void;
}

/** Signals the server reacts to. */
export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGUSR2";

/** What each runtime adapter provides. */
export interface Runtime {
  /** `deno`, `bun` or `node`. */
  readonly name: "deno" | "bun" | "node";
  /** The runtime's own version string. */
  readonly version: string;
  /** Binds a TCP listener. Rejects with a clear error when the address is taken. */
  listen(options: ListenOptions): Promise<Listener>;
  /** Opens a TCP connection. Rejects with a clear error (e.g. connection refused). */
  connect(options: ListenOptions): Promise<Conn>;
  /** Binds a TLS listener (TLS 1.2+). Rejects with a clear error when the address is taken or the pair is bad. */
  listenTls(options: TlsListenOptions): Promise<TlsListener>;
  /**
   * Opens a TLS connection and completes the handshake, verifying the
   * server's certificate (unless `insecure`). Rejects with `code`
   * `tls_failed` when the handshake or the verification fails.
   */
  connectTls(options: TlsConnectOptions): Promise<Conn>;
  /**
   * Serves HTTP (HTTPS with `options.tls`) with a `fetch`-style handler, and
   * WebSocket upgrades on one path when `websocket` is given. A bad pair
   * rejects with `code` `bad_certificate`.
   */
  serveHttp(options: HttpListenOptions, handler: HttpHandler, websocket?: WebSocketOptions): Promise<HttpServer>;
  /** Calls `handler` on each delivery of `signal`; returns a function that removes it. */
  onSignal(signal: SignalName, handler: () => void): () => void;
  /** Reads a whole UTF-8 file. */
  readTextFile(path: string): Promise<string>;
  /**
   * Appends `bytes` to the file at `path`, creating it if needed. The file is
   * opened and closed on each call, so one deleted or rotated away is created
   * again. Rejects on any error (a full disk, a missing directory).
   */
  appendFile(path: string, bytes: Uint8Array): Promise<void>;
  /**
   * Writes to stderr without blocking the event loop, even when nobody reads
   * the pipe; resolves once written, rejects if stderr is broken. Keep one
   * write in flight (the log sink does).
   */
  writeStderr(bytes: Uint8Array): Promise<void>;
  /** The command-line arguments after the script (or compiled binary). */
  readonly args: string[];
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Ends the process. */
  exit(code: number): never;
  /** Resident set size of this process in bytes. */
  memoryRss(): number;
  /**
   * Collects all garbage now and hands freed memory back to the system;
   * false if this runtime cannot from inside the process. Pauses the process
   * (tens of ms on a large heap), so call it only when idle.
   */
  releaseMemory(): boolean;
  /** Whether a standard stream is a terminal (for colour and log format choices). */
  isTerminal(stream: "stdin" | "stdout" | "stderr"): boolean;
}
