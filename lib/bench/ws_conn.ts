/**
 * A bench connection over WebSocket (`tcpchat bench --ws`), made to look like
 * a TCP {@linkcode Conn} so every scenario runs unchanged: each received text
 * message becomes one line (its payload and a LF), and each line written is
 * sent as one text message.
 *
 * It speaks RFC 6455 itself over a TCP connection of the runtime layer rather
 * than through a `WebSocket` object: a JavaScript WebSocket client dispatches
 * an event and a string per message, which made the load generator, not the
 * server, the limit (it used most of a core at an eighth of TCP's rate).
 * Here a read is unframed in one pass into one buffer of lines. Client frames
 * carry an all-zero mask key, which RFC 6455 allows (the mask must be
 * present, its value is the client's choice), so masking copies nothing.
 *
 * @module
 */
import type { ByteSink, CloseReason, Conn, Runtime } from "../runtime/types.ts";
import { pipeIterable } from "../runtime/_push_queue.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 0x0a;
/** A handshake answer longer than this is not one. */
const MAX_HEAD_BYTES = 16 * 1024;
const OP_CONTINUATION = 0;
const OP_TEXT = 1;
const OP_CLOSE = 8;
const OP_PING = 9;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Header length of a client frame with a payload of `length` bytes (mask key included). */
function headerBytes(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

/** Writes a masked (zero key) client frame header at `at`; returns where the payload goes. */
function writeHeader(out: Uint8Array, at: number, opcode: number, length: number): number {
  out[at++] = 0x80 | opcode;
  if (length < 126) out[at++] = 0x80 | length;
  else if (length < 65536) {
    out[at++] = 0x80 | 126;
    out[at++] = length >>> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0x80 | 127;
    for (let shift = 56; shift >= 0; shift -= 8) out[at++] = shift >= 32 ? 0 : (length >>> shift) & 0xff;
  }
  return at + 4; // the zero mask key (the buffer starts zeroed)
}

/** Unframes server frames into lines, across reads. */
class Unframer {
  #partial: Uint8Array | null = null;
  /** The message being reassembled from fragments, if any. */
  #fragments: Uint8Array[] = [];
  closed = false;
  pings: Uint8Array[] = [];

  /** The text messages completed by `chunk`, each followed by LF, in one buffer (or null). */
  push(chunk: Uint8Array): Uint8Array | null {
    const data = this.#partial === null ? chunk : concat(this.#partial, chunk);
    this.#partial = null;
    const payloads: Uint8Array[] = [];
    let total = 0;
    let at = 0;
    while (at + 2 <= data.length) {
      const fin = (data[at] & 0x80) !== 0;
      const opcode = data[at] & 0x0f;
      let length = data[at + 1] & 0x7f;
      let start = at + 2;
      if (length === 126) {
        if (data.length < at + 4) break;
        length = (data[at + 2] << 8) | data[at + 3];
        start = at + 4;
      } else if (length === 127) {
        if (data.length < at + 10) break;
        length = 0;
        for (let i = 2; i < 10; i++) length = length * 256 + data[at + i];
        start = at + 10;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      at = start + length;
      if (opcode === OP_TEXT || opcode === OP_CONTINUATION) {
        if (!fin) {
          this.#fragments.push(payload.slice());
          continue;
        }
        const whole = this.#fragments.length === 0 ? payload : this.#fragments.concat(payload).reduce(concat);
        this.#fragments = [];
        payloads.push(whole);
        total += whole.length + 1;
      } else if (opcode === OP_CLOSE) {
        this.closed = true;
      } else if (opcode === OP_PING) {
        this.pings.push(payload.slice());
      }
    }
    if (at < data.length) this.#partial = data.slice(at);
    if (payloads.length === 0) return null;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const payload of payloads) {
      out.set(payload, offset);
      offset += payload.length;
      out[offset++] = LF;
    }
    return out;
  }
}

class RawWsConn implements Conn {
  readonly readable: AsyncIterable<Uint8Array>;

  constructor(readonly conn: Conn, source: AsyncIterator<Uint8Array>, rest: Uint8Array) {
    const unframer = new Unframer();
    const self = this;
    this.readable = {
      async *[Symbol.asyncIterator]() {
        let chunk: Uint8Array | null = rest.length > 0 ? rest : null;
        for (;;) {
          if (chunk === null) {
            const next = await source.next();
            if (next.done) return;
            chunk = next.value;
          }
          const lines = unframer.push(chunk);
          chunk = null;
          for (const ping of unframer.pings.splice(0)) self.#control(0x0a, ping);
          if (lines !== null) yield lines;
          if (unframer.closed) {
            self.#control(OP_CLOSE, new Uint8Array([0x03, 0xe8]));
            return;
          }
        }
      },
    };
  }

  pipe(sink: ByteSink): Promise<true> {
    return pipeIterable(this.readable, sink);
  }

  #control(opcode: number, payload: Uint8Array): void {
    const frame = new Uint8Array(headerBytes(payload.length) + payload.length);
    frame.set(payload, writeHeader(frame, 0, opcode, payload.length));
    this.conn.write(frame).catch(() => {});
  }

  get closed(): Promise<CloseReason> {
    return this.conn.closed;
  }

  get remoteAddr(): Conn["remoteAddr"] {
    return this.conn.remoteAddr;
  }

  /** Each line of `bytes` (LF-separated) becomes one text message; all go out in one write. */
  write(bytes: Uint8Array): Promise<void> {
    const lines: Uint8Array[] = [];
    let size = 0;
    let start = 0;
    while (start < bytes.length) {
      let lf = bytes.indexOf(LF, start);
      if (lf < 0) lf = bytes.length;
      if (lf > start) {
        const line = bytes.subarray(start, lf);
        lines.push(line);
        size += headerBytes(line.length) + line.length;
      }
      start = lf + 1;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const line of lines) {
      at = writeHeader(out, at, OP_TEXT, line.length);
      out.set(line, at);
      at += line.length;
    }
    return this.conn.write(out);
  }

  closeWrite(): Promise<void> {
    return this.conn.closeWrite();
  }

  close(): void {
    this.conn.close();
  }

  setNoDelay(noDelay?: boolean): void {
    this.conn.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    this.conn.setKeepAlive(keepAlive);
  }
}

/**
 * Opens `ws://hostname:port/ws` over a runtime TCP connection, or
 * `wss://` over TLS when `tls` is given (an `http_listen` serving https);
 * rejects unless the server answers 101.
 */
export async function connectWebSocket(
  runtime: Runtime,
  hostname: string,
  port: number,
  tls?: { ca?: string; insecure?: boolean },
): Promise<Conn> {
  const conn = tls ? await runtime.connectTls({ hostname, port, ...tls }) : await runtime.connect({ hostname, port });
  conn.setNoDelay(true);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const host = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const scheme = tls ? "wss" : "ws";
  await conn.write(encoder.encode(
    `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const source = conn.readable[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  for (;;) {
    const next = await source.next();
    if (next.done) {
      conn.close();
      throw new Error(`cannot open ${scheme}://${host}/ws: closed during the handshake`);
    }
    head = concat(head, next.value);
    const text = decoder.decode(head.subarray(0, Math.min(head.length, MAX_HEAD_BYTES)));
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES || !text.startsWith("HTTP/")) {
        conn.close();
        throw new Error(`cannot open ${scheme}://${host}/ws: not an HTTP answer`);
      }
      continue;
    }
    if (!/^HTTP\/1\.1 101 /.test(text)) {
      conn.close();
      throw new Error(`cannot open ${scheme}://${host}/ws: ${text.slice(0, text.indexOf("\r\n"))}`);
    }
    // The head is ASCII, so its length in characters is its length in bytes.
    return new RawWsConn(conn, source, head.subarray(end + 4));
  }
}
