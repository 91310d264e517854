/**
 * Runtime adapter for Deno.
 *
 * - TCP: `Deno.listen` / `Deno.connect` — https://docs.deno.com/api/deno/~/Deno.listen
 *   and https://docs.deno.com/api/deno/~/Deno.TcpConn
 * - HTTP: `Deno.serve` — https://docs.deno.com/api/deno/~/Deno.serve
 * - WebSocket: `Deno.upgradeWebSocket`, in `_ws_deno.ts`
 * - Signals: `Deno.addSignalListener` — https://docs.deno.com/api/deno/~/Deno.addSignalListener
 * - Appending to files: `Deno.writeFile` with `append` — https://docs.deno.com/api/deno/~/Deno.writeFile
 *
 * Deno's connections are already pull-read with awaited writes, so this is
 * mostly a pass-through. What it adds: `write` loops until every byte is taken
 * (`conn.write` may take only part) and keeps concurrent writes in order;
 * `readable` copies each read out of one reused buffer; errors become a
 * {@linkcode CloseReason} instead of escaping.
 *
 * Deno has no close event: a peer's FIN or reset is seen only by reading (or
 * by a failing write), so `closed` settles once `readable` has been consumed
 * to its end and the write side is shut, or on `close()`, or on an error.
 *
 * @module
 */

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
  SignalName,
  WebSocketOptions,
} from "./types.ts";
import { denoHandler } from "./_ws_deno.ts";
import {
  closeReasonOf,
  connectError,
  connectionClosedError,
  isResetError,
  listenError,
  normalizeHostname,
} from "./_net.ts";
import { checkCertificatePair, connectTls, listenTls } from "./_tls.ts";
import { serveNodeHttp } from "./_node_http.ts";
import { releaseV8Memory } from "./_release_memory.ts";

/**
 * Each connection reads into a buffer that starts small and grows x4 after a
 * read that fills it, up to the max. A short read (under 256 bytes) shrinks
 * it to the smallest size that read would not have filled (128 or 512
 * bytes), except right after a growth (that read was most likely the tail of
 * the line that filled the buffer); reads of 256 bytes or more keep it, so a
 * busy sender keeps its large buffer. Every open connection holds its buffer
 * in a pending read: with a fixed 64 KiB buffer an idle connection cost ~70
 * KiB of RSS, with this scheme ~20 KiB (Deno 2.9.6, 2,000 idle connections).
 * 128 bytes rather than 256 (issue 15): what a client sends on connecting
 * (`hello` and `join`, often in one write) fits, so it is neither split
 * across reads nor left in the line splitter's partial-line buffer (64 bytes
 * split `tcpchat bench`'s and cost more than they saved). A client sending
 * 140-byte messages grows 128 to 512 once and then reads each in one read.
 */
const MIN_READ_BUFFER_BYTES = 128;
const MAX_READ_BUFFER_BYTES = 64 * 1024;

/** Reads shorter than this may shrink the buffer (see above). */
const SHRINK_BELOW_BYTES = 256;

/**
 * The buffer for the next read after one of `n` bytes into `buffer` (the
 * same one when its size still fits); `justGrown`: `buffer` was grown by the
 * read before this one.
 */
function nextReadBuffer(buffer: Uint8Array<ArrayBuffer>, n: number, justGrown: boolean): Uint8Array<ArrayBuffer> {
  const size = buffer.length;
  if (n === size && n < MAX_READ_BUFFER_BYTES) return new Uint8Array(n * 4);
  if (justGrown || n >= SHRINK_BELOW_BYTES) return buffer;
  const fit = n < MIN_READ_BUFFER_BYTES ? MIN_READ_BUFFER_BYTES : MIN_READ_BUFFER_BYTES * 4;
  return size > fit ? new Uint8Array(fit) : buffer;
}

/** How long to back off after an accept error such as EMFILE. */
const ACCEPT_RETRY_MS = 100;

/** A write queued behind the one in progress. */
interface PendingWrite {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** True for the errors Deno raises on a resource this side already closed. */
function isClosedResource(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

class DenoConn implements Conn {
  readonly remoteAddr: NetAddr;
  readonly #conn: Deno.TcpConn;
  /** Made when first asked for (see `closed`): an idle connection need not carry a promise and its resolver. */
  #closedPromise: Promise<CloseReason> | undefined;
  #closeReason: CloseReason | undefined;
  #settle: ((reason: CloseReason) => void) | undefined;
  /** The async-iterable form, made only if someone asks for it (the server uses `pipe`). */
  #readable: AsyncIterable<Uint8Array> | undefined;
  #writing = false;
  /** Writes behind the one in progress; null while none wait (most connections, always). */
  #queue: PendingWrite[] | null = null;
  #writeClosed = false;
  #fin: Promise<void> | undefined;
  #readEnded = false;
  #writeEnded = false;
  #done = false;
  /** `pipe`'s state: where chunks go, the read buffer (held by the pending read), and how to end. */
  #sink: ByteSink | null = null;
  #buffer: Uint8Array<ArrayBuffer> | null = null;
  /** Whether the last read grew `#buffer` (see `nextReadBuffer`). */
  #grown = false;
  #pipeEnded: ((value: true) => void) | null = null;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.remoteAddr = { hostname: normalizeHostname(conn.remoteAddr.hostname), port: conn.remoteAddr.port };
  }

  get closed(): Promise<CloseReason> {
    this.#closedPromise ??= this.#closeReason !== undefined
      ? Promise.resolve(this.#closeReason)
      : new Promise((resolve) => (this.#settle = resolve));
    return this.#closedPromise;
  }

  get readable(): AsyncIterable<Uint8Array> {
    return (this.#readable ??= this.#read());
  }

  /**
   * One `conn.read` at a time, each settled by the one `#onRead` callback of
   * this connection: a pending read holds its buffer, a promise and one
   * reaction, instead of an async generator with its request queue, a
   * promise per chunk and the consumer's async function (issue 15).
   */
  pipe(sink: ByteSink): Promise<true> {
    return new Promise<true>((resolve) => {
      this.#sink = sink;
      this.#pipeEnded = resolve;
      this.#buffer = new Uint8Array(MIN_READ_BUFFER_BYTES);
      this.#readNext();
    });
  }

  #readNext(): void {
    if (this.#done || this.#sink!.inputClosed) return this.#endPipe();
    this.#conn.read(this.#buffer!).then(this.#onRead, this.#onRead);
  }

  /** Settles one `conn.read`: a count, null at the peer's FIN, or an error. */
  readonly #onRead = (result: unknown): void => {
    if (typeof result === "number") {
      const chunk = this.#takeChunk(result);
      try {
        this.#sink!.onChunk(chunk);
      } catch {
        // As `readable` under a for-await: a throwing consumer stops reading.
        return this.#endPipe();
      }
      return this.#readNext();
    }
    if (result === null) {
      this.#endPipe();
      this.#readEnded = true;
      if (this.#writeEnded) this.#finish("eof");
      return;
    }
    if (!isClosedResource(result)) this.#finish(closeReasonOf(result));
    this.#endPipe();
  };

  /** Copies out the `n` bytes just read (the buffer is read into again) and sizes the buffer for the next read. */
  #takeChunk(n: number): Uint8Array {
    const buffer = this.#buffer!;
    const chunk = buffer.slice(0, n);
    const next = nextReadBuffer(buffer, n, this.#grown);
    this.#grown = next.length > buffer.length;
    this.#buffer = next;
    return chunk;
  }

  #endPipe(): void {
    const ended = this.#pipeEnded;
    this.#pipeEnded = null;
    this.#sink = null;
    this.#buffer = null;
    ended?.(true);
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    let buffer = new Uint8Array(MIN_READ_BUFFER_BYTES);
    let grown = false;
    try {
      while (!this.#done) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        // The buffer is reused by the next read; consumers may keep chunks.
        const chunk = buffer.slice(0, n);
        const next = nextReadBuffer(buffer, n, grown);
        grown = next.length > buffer.length;
        buffer = next;
        yield chunk;
      }
    } catch (error) {
      if (!isClosedResource(error)) this.#finish(closeReasonOf(error));
      return;
    }
    this.#readEnded = true;
    if (this.#writeEnded) this.#finish("eof");
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#done || this.#writeClosed) return Promise.reject(connectionClosedError());
    if (this.#writing) {
      return new Promise((resolve, reject) => (this.#queue ??= []).push({ bytes, resolve, reject }));
    }
    return this.#writeNow(bytes);
  }

  /**
   * Writes `bytes` completely, then starts the next queued write. A `.then`
   * chain with one callback per connection, not an async function: that
   * allocated a generator-like frame and its promises on every write, the
   * largest allocation of a fan-out on Deno (issue 15).
   */
  #writeNow(bytes: Uint8Array): Promise<void> {
    this.#writing = true;
    this.#current = bytes;
    this.#offset = 0;
    return this.#conn.write(bytes).then(this.#onWrite, this.#onWrite);
  }

  /** The bytes being written and how many are done. */
  #current: Uint8Array | null = null;
  #offset = 0;

  /** Settles one `conn.write`: a count of bytes written, or an error (which it rethrows to the caller). */
  readonly #onWrite = (result: unknown): Promise<void> | undefined => {
    const bytes = this.#current!;
    if (typeof result !== "number") {
      this.#writing = false;
      this.#current = null;
      if (!isClosedResource(result)) this.#finish(closeReasonOf(result));
      this.#rejectQueued(result);
      throw connectionClosedError(result);
    }
    this.#offset += result;
    if (this.#offset < bytes.byteLength) {
      return this.#conn.write(bytes.subarray(this.#offset)).then(this.#onWrite, this.#onWrite);
    }
    this.#writing = false;
    this.#current = null;
    const queue = this.#queue;
    if (queue === null) return;
    const next = queue.shift()!;
    if (queue.length === 0) this.#queue = null;
    this.#writeNow(next.bytes).then(next.resolve, next.reject);
  };

  closeWrite(): Promise<void> {
    if (this.#fin !== undefined) return this.#fin;
    if (this.#done) return Promise.reject(connectionClosedError());
    // An empty write queues behind the pending ones: FIN goes after them.
    const flushed = this.#writing ? this.write(new Uint8Array(0)) : Promise.resolve();
    this.#writeClosed = true;
    this.#fin = flushed.then(async () => {
      try {
        await this.#conn.closeWrite();
      } catch (error) {
        if (isResetError(error)) this.#finish("reset");
        throw connectionClosedError(error);
      }
      this.#writeEnded = true;
      if (this.#readEnded) this.#finish("eof");
    });
    return this.#fin;
  }

  close(): void {
    this.#finish("local");
  }

  setNoDelay(noDelay = true): void {
    this.#conn.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.#conn.setKeepAlive(keepAlive);
  }

  #rejectQueued(cause: unknown): void {
    const queue = this.#queue;
    this.#queue = null;
    if (queue !== null) for (const write of queue) write.reject(connectionClosedError(cause));
  }

  /** Closes the resource and settles `closed`, once. */
  #finish(reason: CloseReason): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by Deno after an error: nothing left to release.
    }
    this.#rejectQueued(undefined);
    this.#fin?.catch(() => {});
    this.#closeReason = reason;
    this.#settle?.(reason);
  }
}

class DenoListener implements Listener {
  readonly addr: NetAddr;
  readonly #listener: Deno.TcpListener;
  #closed = false;

  constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.addr = { hostname: normalizeHostname(listener.addr.hostname), port: listener.addr.port };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || isClosedResource(error)) return;
        // E.g. out of file descriptors: keep listening rather than end the server.
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      yield new DenoConn(conn);
    }
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  try {
    return Promise.resolve(new DenoListener(Deno.listen({ hostname: options.hostname, port: options.port })));
  } catch (error) {
    return Promise.reject(listenError(options, error));
  }
}

async function connect(options: ListenOptions): Promise<Conn> {
  try {
    return new DenoConn(await Deno.connect({ hostname: options.hostname, port: options.port }));
  } catch (error) {
    throw connectError(options, error);
  }
}

function serveHttp(options: HttpListenOptions, handler: HttpHandler, websocket?: WebSocketOptions): Promise<HttpServer> {
  try {
    // Checked here so a bad pair is `bad_certificate` on every runtime (Deno does not match the key).
    if (options.tls) checkCertificatePair(options.tls);
  } catch (error) {
    return Promise.reject(error);
  }
  // HTTPS through node:https, whose pair can be swapped in place: see _node_http.ts for why.
  if (options.tls) return serveNodeHttp(options, handler, websocket);
  try {
    const server = Deno.serve(
      // A no-op onListen stops Deno printing "Listening on ..." to stdout.
      { hostname: options.hostname, port: options.port, onListen() {}, ...(options.tls ?? {}) },
      websocket ? denoHandler(handler, websocket) : (request) => handler(request),
    );
    const addr = { hostname: normalizeHostname(server.addr.hostname), port: server.addr.port };
    return Promise.resolve({ addr, close: () => server.shutdown() });
  } catch (error) {
    return Promise.reject(listenError(options, error));
  }
}

function onSignal(signal: SignalName, handler: () => void): () => void {
  Deno.addSignalListener(signal, handler);
  return () => Deno.removeSignalListener(signal, handler);
}

/**
 * Builds the Deno {@linkcode Runtime}. Call only under Deno.
 *
 * @example
 * ```ts
 * const runtime = createDenoRuntime();
 * runtime.onSignal("SIGTERM", () => runtime.exit(0));
 * ```
 */
export function createDenoRuntime(): Runtime {
  return {
    name: "deno",
    version: Deno.version.deno,
    listen,
    connect,
    // TLS goes through node:tls: see _tls.ts for why.
    listenTls,
    connectTls,
    serveHttp,
    onSignal,
    readTextFile: (path) => Deno.readTextFile(path),
    appendFile: (path, bytes) => Deno.writeFile(path, bytes, { append: true }),
    writeStderr: async (bytes) => {
      // An async op: a full pipe waits off the event loop. Writes may be partial.
      for (let offset = 0; offset < bytes.length;) offset += await Deno.stderr.write(bytes.subarray(offset));
    },
    args: Deno.args,
    env: (name) => Deno.env.get(name),
    exit: (code) => Deno.exit(code),
    memoryRss: () => Deno.memoryUsage().rss,
    releaseMemory: releaseV8Memory,
    isTerminal: (stream) => Deno[stream].isTerminal(),
  };
}
