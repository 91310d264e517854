/**
 * Runtime adapter for Bun.
 *
 * - TCP: `Bun.listen` / `Bun.connect` — https://bun.com/docs/runtime/networking/tcp
 * - HTTP: `Bun.serve` — https://bun.com/docs/runtime/http/server
 * - WebSocket: `Bun.serve` handlers, in `_ws_bun.ts`
 * - Signals, env, argv, memory: Node's `process` — https://bun.com/docs/runtime/nodejs-compat
 * - Appending to files: Node's `fs/promises` — https://bun.com/docs/runtime/nodejs-compat
 *
 * Bun's sockets are push-style and unbuffered: `socket.write` takes what the
 * kernel accepts right now and returns the count, dropping the rest. This file
 * keeps the untaken tail (and later writes, in order) and flushes it from the
 * `drain` handler, so `Conn.write` never loses bytes.
 *
 * Behaviour relied on (checked against Bun 1.4.5):
 * - `data` chunks are fresh buffers, never reused: consumers may keep them.
 * - `end()` closes the socket at once even with `allowHalfOpen`; `shutdown()`
 *   is the real half-close (FIN, still readable).
 * - A peer reset reaches the `close` handler as an `ECONNRESET` error, even while
 *   reading is paused; `write` then returns -1.
 * - `close()` runs the `close` handler synchronously.
 *
 * @module
 */

import type {
  ByteSink,
  CertificatePair,
  CloseReason,
  Conn,
  HttpHandler,
  HttpListenOptions,
  HttpServer,
  ListenOptions,
  Listener,
  NetAddr,
  Runtime,
  WebSocketOptions,
} from "./types.ts";
import { serveBunWebSocket } from "./_ws_bun.ts";
import { PROCESS_SERVICES } from "./_process.ts";
import { releaseBunMemory } from "./_release_memory.ts";
import { WRITTEN } from "./types.ts";
import { byteLength, PushQueue } from "./_push_queue.ts";
import { closeReasonOf, connectError, connectionClosedError, listenError, normalizeHostname } from "./_net.ts";
import { checkCertificatePair, connectTls } from "./_tls.ts";
import { listenTlsBun } from "./_tls_bun.ts";
import { rebindingHttpsServer } from "./_bun_https_rebind.ts";

/** A Bun socket whose `data` is its {@linkcode BunConn}. */
export type BunSocket = Bun.Socket<BunConn>;
/** Socket handlers over {@linkcode BunConn}s. */
export type BunSocketHandler = Bun.SocketHandler<BunConn>;

/** A write the kernel has not fully taken yet. */
interface PendingWrite {
  bytes: Uint8Array;
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

// Shared by every fully taken write: the common case allocates nothing.
/** Also what a write the socket took at once returns, so that callers can tell. */
const RESOLVED: Promise<void> = WRITTEN;

/** A {@linkcode Conn} over a Bun socket, plain or TLS (`_tls_bun.ts`). */
export class BunConn implements Conn {
  readonly readable: PushQueue<Uint8Array>;
  /** Made when first asked for: an idle connection need not carry a promise and its resolver. */
  #closedPromise: Promise<CloseReason> | undefined;
  #closeReason: CloseReason | undefined;
  readonly remoteAddr: NetAddr;
  readonly #socket: BunSocket;
  #settle: ((reason: CloseReason) => void) | undefined;
  // Writes waiting for `drain`, oldest first; `#head` skips the taken ones. Made on the first
  // write the socket does not take at once: most connections never need it (issue 15).
  #pending: (PendingWrite | undefined)[] | null = null;
  #head = 0;
  #writeClosed = false;
  // A closeWrite waiting for the pending writes, and whether its FIN went out.
  #fin: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  #finSent = false;
  #done = false;
  #localClose = false;
  #handlerError: Error | undefined;

  /**
   * `handshake`: for TLS sockets, settles when the handshake is done; `remote`:
   * the peer's address when the socket does not know it (an upgraded TLS one).
   */
  constructor(socket: BunSocket, readonly handshake?: Promise<void>, remote?: NetAddr) {
    this.#socket = socket;
    // Both can be missing when the peer is already gone by the time `open` runs.
    this.remoteAddr = remote ??
      { hostname: sharedHostname(normalizeHostname(socket.remoteAddress ?? "")), port: socket.remotePort ?? 0 };
    this.readable = new PushQueue<Uint8Array>({
      sizeOf: byteLength,
      source: socket,
    });
  }

  get closed(): Promise<CloseReason> {
    this.#closedPromise ??= this.#closeReason !== undefined
      ? Promise.resolve(this.#closeReason)
      : new Promise((resolve) => (this.#settle = resolve));
    return this.#closedPromise;
  }

  pipe(sink: ByteSink): Promise<true> {
    return this.readable.pipe(sink);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#done || this.#writeClosed) return Promise.reject(connectionClosedError());
    if (this.#nothingPending) {
      const taken = this.#socket.write(bytes);
      if (taken === bytes.byteLength) return RESOLVED;
      if (taken < 0) return Promise.reject(connectionClosedError());
      return this.#enqueue(bytes, taken);
    }
    return this.#enqueue(bytes, 0);
  }

  closeWrite(): Promise<void> {
    if (this.#fin !== undefined) return this.#fin.promise;
    if (this.#writeClosed) return RESOLVED;
    if (this.#done) return Promise.reject(connectionClosedError());
    this.#writeClosed = true;
    if (this.#nothingPending) {
      this.#socket.shutdown();
      return RESOLVED;
    }
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.#fin = { promise, resolve, reject };
    return promise;
  }

  close(): void {
    if (this.#done) return;
    this.#localClose = true;
    this.#socket.close();
    // Bun calls the close handler synchronously; this covers it if it ever does not.
    this.onClose(undefined);
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
  }

  /** Whether no write waits for `drain` (so a new one may go straight to the socket). */
  get #nothingPending(): boolean {
    return this.#pending === null || this.#head === this.#pending.length;
  }

  #enqueue(bytes: Uint8Array, offset: number): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.#pending ??= []).push({ bytes, offset, resolve, reject });
    });
  }

  /** `drain` handler: the kernel has room again. */
  onDrain(): void {
    const pending = this.#pending;
    if (pending !== null) {
      while (this.#head < pending.length) {
        const write = pending[this.#head]!;
        const rest = write.bytes.byteLength - write.offset;
        const taken = this.#socket.write(write.bytes, write.offset, rest);
        // -1: the socket is closing; the close handler rejects what is left.
        if (taken < 0) return;
        if (taken < rest) {
          write.offset += taken;
          return;
        }
        pending[this.#head++] = undefined;
        write.resolve();
      }
      pending.length = 0;
    }
    this.#head = 0;
    // Bun also calls `drain` when nothing was pending: send the FIN only once.
    const fin = this.#fin;
    if (fin !== undefined && !this.#finSent) {
      this.#finSent = true;
      this.#socket.shutdown();
      fin.resolve();
    }
  }

  /** `error` handler: only reached when one of our handlers threw. */
  onError(error: Error): void {
    this.#handlerError ??= error;
  }

  /** `close` handler (also called by `close()`): settles everything once. */
  onClose(error: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.readable.end();
    const cause = error ?? this.#handlerError;
    const pending = this.#pending;
    if (pending !== null) {
      for (let i = this.#head; i < pending.length; i++) pending[i]!.reject(connectionClosedError(cause));
      pending.length = 0;
    }
    this.#head = 0;
    this.#fin?.reject(connectionClosedError(cause));
    // A rejected closeWrite nobody awaits must not become an unhandled rejection.
    this.#fin?.promise.catch(() => {});
    this.#closeReason = this.#localClose ? "local" : cause === undefined ? "eof" : closeReasonOf(cause);
    this.#settle?.(this.#closeReason);
  }
}

let lastHostname = "";

/**
 * The previous connection's address string when it is the same: Bun makes a
 * new string for each socket, and most connections come from few addresses,
 * so an idle connection keeps a shared one (issue 15).
 */
function sharedHostname(hostname: string): string {
  if (hostname !== lastHostname) lastHostname = hostname;
  return lastHostname;
}

/** The handlers every {@linkcode BunConn} socket shares (all but `open`). */
export const connHandlers: Omit<BunSocketHandler, "open"> = {
  data(socket, data) {
    socket.data.readable.push(data);
  },
  end(socket) {
    socket.data.readable.end();
  },
  drain(socket) {
    socket.data?.onDrain();
  },
  error(socket, error) {
    socket.data?.onError(error);
  },
  close(socket, error) {
    socket.data?.onClose(error);
  },
};

class BunListener implements Listener {
  readonly addr: NetAddr;
  readonly #server: Bun.TCPSocketListener<BunConn>;
  readonly #accepted: PushQueue<Conn>;
  #closed = false;

  constructor(server: Bun.TCPSocketListener<BunConn>, accepted: PushQueue<Conn>) {
    this.#server = server;
    this.#accepted = accepted;
    this.addr = { hostname: server.hostname, port: server.port };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.stop(false);
    this.#accepted.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#accepted;
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  // Bun accepts on its own; connections wait here until the server pulls them.
  const accepted = new PushQueue<Conn>({ drop: (conn) => conn.close() });
  let server: Bun.TCPSocketListener<BunConn>;
  try {
    server = Bun.listen<BunConn>({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: {
        ...connHandlers,
        open(socket) {
          socket.data = new BunConn(socket);
          accepted.push(socket.data);
        },
      },
    });
  } catch (error) {
    return Promise.reject(listenError(options, error));
  }
  return Promise.resolve(new BunListener(server, accepted));
}

async function connect(options: ListenOptions): Promise<Conn> {
  try {
    const socket = await Bun.connect<BunConn>({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: {
        ...connHandlers,
        open(socket) {
          socket.data = new BunConn(socket);
        },
        // Present so Bun does not also report the rejection as unhandled.
        connectError() {},
      },
    });
    return socket.data;
  } catch (error) {
    throw connectError(options, error);
  }
}

function serveHttp(options: HttpListenOptions, handler: HttpHandler, websocket?: WebSocketOptions): Promise<HttpServer> {
  try {
    // Checked here so a bad pair is `bad_certificate` on every runtime.
    if (options.tls) checkCertificatePair(options.tls);
  } catch (error) {
    return Promise.reject(error);
  }
  const make = (tls: CertificatePair | undefined, port: number) =>
    websocket ? serveBunWebSocket({ ...options, port, tls }, handler, websocket) : Bun.serve({
      hostname: options.hostname,
      port,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      fetch: (request) => handler(request),
    });
  try {
    const server = make(options.tls, options.port);
    const addr = { hostname: server.hostname ?? options.hostname, port: server.port ?? options.port };
    // HTTPS takes a new pair by binding a new server on the port (_bun_https_rebind.ts).
    if (options.tls) return Promise.resolve(rebindingHttpsServer(addr, server, options.tls, make));
    return Promise.resolve({ addr, close: () => server.stop() });
  } catch (error) {
    return Promise.reject(listenError(options, error));
  }
}

/**
 * Builds the Bun {@linkcode Runtime}. Call only under Bun.
 *
 * @example
 * ```ts
 * const runtime = createBunRuntime();
 * const listener = await runtime.listen({ hostname: "127.0.0.1", port: 0 });
 * ```
 */
export function createBunRuntime(): Runtime {
  return {
    name: "bun",
    version: Bun.version,
    listen,
    connect,
    // Bun's own TLS for the listener (_tls_bun.ts); node:tls for clients (_tls.ts).
    listenTls: (options) => listenTlsBun(options, { BunConn, connHandlers }),
    connectTls,
    serveHttp,
    readTextFile: (path) => Bun.file(path).text(),
    ...PROCESS_SERVICES,
    releaseMemory: releaseBunMemory,
  };
}
