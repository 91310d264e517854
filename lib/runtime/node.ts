/**
 * Runtime adapter for Node.js (20+).
 *
 * - TCP: `node:net` — https://nodejs.org/api/net.html
 * - HTTP: `node:http`, bridged to a fetch-style handler in `_node_http.ts`
 * - Signals, env, argv, memory: `process` — https://nodejs.org/api/process.html
 * - Files: `node:fs/promises` — https://nodejs.org/api/fs.html#promises-api
 *
 * Node buffers writes itself and calls each write's callback, in order, once
 * libuv has handed the bytes to the kernel. When the kernel takes everything
 * during `socket.write` itself (`writableLength` back at 0), the write is
 * already done and we return a settled promise instead of waiting a tick.
 *
 * Behaviour relied on (checked against Node 20):
 * - a write in flight when the socket is destroyed gets its callback with
 *   *no* error; so a callback that finds the socket destroyed counts as failed;
 * - `'data'` chunks are fresh buffers, never reused;
 * - a peer reset arrives as `'error'` (`ECONNRESET`/`EPIPE`) then `'close'`.
 *
 * @module
 */

import * as net from "node:net";
import { readFile } from "node:fs/promises";
import type {
  ByteSink,
  CloseReason,
  Conn,
  HttpHandler,
  HttpServer,
  HttpListenOptions,
  ListenOptions,
  Listener,
  NetAddr,
  Runtime,
  WebSocketOptions,
} from "./types.ts";
import { PROCESS_SERVICES } from "./_process.ts";
import { WRITTEN } from "./types.ts";
import { byteLength, PushQueue } from "./_push_queue.ts";
import { closeReasonOf, connectError, connectionClosedError, listenError, normalizeHostname } from "./_net.ts";
import { serveNodeHttp } from "./_node_http.ts";
import { connectTls, listenTls } from "./_tls.ts";

/** A write whose callback has not run yet; `null` when it was already resolved. */
type PendingWrite = { resolve: () => void; reject: (error: Error) => void } | null;

/** Also what a write the socket took at once returns, so that callers can tell. */
const RESOLVED: Promise<void> = WRITTEN;

/** A {@linkcode Conn} over a `node:net` socket, or a `node:tls` one (`_tls.ts`: TLS clients on every runtime). */
export class NodeConn implements Conn {
  readonly readable: PushQueue<Uint8Array>;
  readonly closed: Promise<CloseReason>;
  readonly remoteAddr: NetAddr;
  readonly #socket: net.Socket;
  #settle!: (reason: CloseReason) => void;
  // One entry per socket.write, matched to callbacks in order (Node runs them in order).
  #pending: PendingWrite[] = [];
  #head = 0;
  #fin: Promise<void> | undefined;
  #done = false;
  #localClose = false;
  #error: Error | undefined;
  // One callback per connection instead of one closure per write.
  readonly #onWritten = (error?: Error | null): void => {
    const pending = this.#pending;
    if (this.#head >= pending.length) return;
    const write = pending[this.#head];
    pending[this.#head++] = null;
    if (this.#head === pending.length) {
      pending.length = 0;
      this.#head = 0;
    }
    if (write === null || write === undefined) return;
    if (error || this.#socket.destroyed) write.reject(connectionClosedError(error ?? this.#error));
    else write.resolve();
  };

  /**
   * `handshake`: for TLS sockets, settles when the handshake is done (see
   * {@linkcode Conn.handshake}); `tcp`: the TCP socket under a server-side TLS
   * one, whose own address Bun leaves empty; `pausable: false` reads without
   * backpressure (Deno's `node:tls`, see `_tls.ts`).
   */
  constructor(socket: net.Socket, readonly handshake?: Promise<void>, tcp: net.Socket = socket, pausable = true) {
    this.#socket = socket;
    this.remoteAddr = { hostname: normalizeHostname(tcp.remoteAddress ?? ""), port: tcp.remotePort ?? 0 };
    this.readable = new PushQueue<Uint8Array>({
      sizeOf: byteLength,
      source: pausable ? socket : undefined,
    });
    this.closed = new Promise((resolve) => (this.#settle = resolve));
    socket.on("data", (chunk: Buffer) => this.readable.push(chunk));
    socket.on("end", () => this.readable.end());
    // Without an 'error' listener a reset would crash the process.
    socket.on("error", (error) => (this.#error ??= error));
    socket.on("close", () => this.#onClose());
  }

  pipe(sink: ByteSink): Promise<true> {
    return this.readable.pipe(sink);
  }

  write(bytes: Uint8Array): Promise<void> {
    // `destroyed` covers the tick between a destroy and its 'close' event.
    if (this.#done || this.#fin !== undefined || this.#socket.destroyed) {
      return Promise.reject(connectionClosedError(this.#error));
    }
    this.#socket.write(bytes, this.#onWritten);
    if (this.#socket.writableLength === 0) {
      // The kernel took it all synchronously; the callback will still come, as a no-op.
      this.#pending.push(null);
      return RESOLVED;
    }
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  closeWrite(): Promise<void> {
    if (this.#fin !== undefined) return this.#fin;
    if (this.#done) return Promise.reject(connectionClosedError());
    this.#fin = new Promise((resolve, reject) => {
      this.#socket.end((error?: Error | null) => {
        if (error || !this.#socket.writableFinished) reject(connectionClosedError(error ?? this.#error));
        else resolve();
      });
    });
    return this.#fin;
  }

  close(): void {
    if (this.#done) return;
    this.#localClose = true;
    this.#socket.destroy();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
  }

  #onClose(): void {
    if (this.#done) return;
    this.#done = true;
    this.readable.end();
    // Callbacks still due will find the socket destroyed; reject now so
    // nothing waits on a callback that a destroyed stream may never run.
    for (let i = this.#head; i < this.#pending.length; i++) {
      this.#pending[i]?.reject(connectionClosedError(this.#error));
    }
    this.#pending.length = 0;
    this.#head = 0;
    this.#fin?.catch(() => {});
    const error = this.#error;
    this.#settle(this.#localClose ? "local" : error === undefined ? "eof" : closeReasonOf(error));
  }
}

class NodeListener implements Listener {
  readonly addr: NetAddr;
  readonly #server: net.Server;
  readonly #accepted: PushQueue<Conn>;
  #closed = false;

  constructor(server: net.Server, accepted: PushQueue<Conn>) {
    this.#server = server;
    this.#accepted = accepted;
    const address = server.address() as net.AddressInfo;
    this.addr = { hostname: normalizeHostname(address.address), port: address.port };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    this.#accepted.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#accepted;
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  const accepted = new PushQueue<Conn>({ drop: (conn) => conn.close() });
  const server = net.createServer({ allowHalfOpen: true }, (socket) => accepted.push(new NodeConn(socket)));
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(listenError(options, error)));
    server.listen({ host: options.hostname, port: options.port }, () => {
      // Later server errors (e.g. EMFILE on accept) must not crash the
      // process; Node keeps listening after them.
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve(new NodeListener(server, accepted));
    });
  });
}

function connect(options: ListenOptions): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.hostname, port: options.port, allowHalfOpen: true });
    const onError = (error: Error) => reject(connectError(options, error));
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(new NodeConn(socket));
    });
  });
}

/**
 * Builds the Node {@linkcode Runtime}. Also what a `bun build --target=node`
 * bundle uses when run by `node`.
 *
 * @example
 * ```ts
 * const runtime = createNodeRuntime();
 * const conn = await runtime.connect({ hostname: "127.0.0.1", port: 4000 });
 * ```
 */
export function createNodeRuntime(): Runtime {
  return {
    name: "node",
    version: process.versions.node,
    listen,
    connect,
    listenTls,
    connectTls,
    serveHttp: (options: HttpListenOptions, handler: HttpHandler, websocket?: WebSocketOptions): Promise<HttpServer> =>
      serveNodeHttp(options, handler, websocket),
    readTextFile: (path) => readFile(path, "utf8"),
    ...PROCESS_SERVICES,
  };
}
