/**
 * A deliberately raw WebSocket client over `node:net` (RFC 6455 framing by
 * hand), so tests control what goes on the wire: fragments, control frames,
 * binary messages, oversize messages, and a client that stops reading.
 */
import { createHash, randomBytes } from "node:crypto";
import * as net from "node:net";

/** WebSocket opcodes. */
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** A frame as received. */
export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** The result of a handshake that the server refused. */
export class HandshakeRefused extends Error {
  constructor(readonly status: number, readonly head: string) {
    super(`handshake refused: ${status}`);
  }
}

/** One raw WebSocket client. */
export class RawWs {
  readonly frames: WsFrame[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket, rest: Buffer) {
    socket.on("data", (data: Buffer) => this.#onData(data));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.#ended = true;
        this.#wake();
        resolve();
      })
    );
    if (rest.length > 0) this.#onData(rest);
  }

  /** Opens `ws://127.0.0.1:port/path` with `origin` (none when null); rejects with HandshakeRefused on a non-101. */
  static connect(port: number, options: { path?: string; origin?: string | null; host?: string } = {}): Promise<RawWs> {
    const key = randomBytes(16).toString("base64");
    const origin = options.origin === undefined ? `http://127.0.0.1:${port}` : options.origin;
    const lines = [
      `GET ${options.path ?? "/ws"} HTTP/1.1`,
      `Host: ${options.host ?? `127.0.0.1:${port}`}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      ...(origin === null ? [] : [`Origin: ${origin}`]),
      "",
      "",
    ];
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      let head = Buffer.alloc(0);
      const onData = (data: Buffer) => {
        head = Buffer.concat([head, data]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        const text = head.subarray(0, end).toString("latin1");
        const status = Number(text.split(" ")[1]);
        if (status !== 101) {
          socket.destroy();
          return reject(new HandshakeRefused(status, text));
        }
        const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
        if (!text.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
          socket.destroy();
          return reject(new Error(`bad accept header:\n${text}`));
        }
        resolve(new RawWs(socket, head.subarray(end + 4)));
      };
      socket.on("data", onData);
      socket.once("error", reject);
      socket.once("connect", () => socket.write(lines.join("\r\n")));
    });
  }

  /** Sends one frame (masked, as a client must). */
  sendFrame(opcode: number, payload: Buffer | string, fin = true): void {
    this.socket.write(encodeFrame(opcode, typeof payload === "string" ? Buffer.from(payload) : payload, fin));
  }

  /** Sends a JSON frame as one text message. */
  send(frame: Record<string, unknown>): void {
    this.sendFrame(OP.text, JSON.stringify(frame));
  }

  /** Text messages received so far, parsed as JSON. */
  // deno-lint-ignore no-explicit-any
  get json(): Record<string, any>[] {
    return this.frames.filter((f) => f.opcode === OP.text).map((f) => JSON.parse(f.payload.toString("utf8")));
  }

  /** Whether the TCP connection has closed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves with the first frame (from index `from`) that matches; rejects after `timeoutMs`. */
  async waitFrame(match: (f: WsFrame) => boolean, timeoutMs = 3000, from = 0): Promise<WsFrame> {
    const deadline = Date.now() + timeoutMs;
    // Each frame is looked at once, however many times this wakes.
    let next = from;
    for (;;) {
      for (; next < this.frames.length; next++) if (match(this.frames[next])) return this.frames[next];
      if (this.#ended) throw new Error(`closed without the frame; got ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves with the first JSON text message that matches. */
  // deno-lint-ignore no-explicit-any
  async waitJson(match: (f: Record<string, any>) => boolean, timeoutMs = 3000): Promise<Record<string, any>> {
    const frame = await this.waitFrame((f) => f.opcode === OP.text && match(JSON.parse(f.payload.toString("utf8"))), timeoutMs);
    return JSON.parse(frame.payload.toString("utf8"));
  }

  /** The close frame's status code, once it arrives. */
  async closeCode(timeoutMs = 3000): Promise<number> {
    const frame = await this.waitFrame((f) => f.opcode === OP.close, timeoutMs);
    return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
  }

  /** The last received frames, short, for failure messages. */
  describe(): string {
    const shown = this.frames.slice(-8).map((f) => `${f.opcode}:${f.payload.toString("utf8").slice(0, 60)}`);
    return `${this.frames.length} frames, last: ${shown.join(" | ")}`;
  }

  #onData(data: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    for (;;) {
      const frame = decodeFrame(this.#buffer);
      if (!frame) break;
      this.#buffer = this.#buffer.subarray(frame.size);
      this.frames.push(frame.frame);
    }
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}

/** Encodes one masked client frame. */
export function encodeFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const head = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** Decodes one unmasked server frame from the front of `buffer`, or null when incomplete. */
function decodeFrame(buffer: Buffer): { frame: WsFrame; size: number } | null {
  if (buffer.length < 2) return null;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return null;
  return {
    frame: { fin: (buffer[0] & 0x80) !== 0, opcode: buffer[0] & 0x0f, payload: buffer.subarray(offset, offset + length) },
    size: offset + length,
  };
}
