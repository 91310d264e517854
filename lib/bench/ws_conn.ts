/**
 * A bench connection over WebSocket (`tcpchat bench --ws`), made to look like
 * a TCP {@linkcode Conn} so every scenario runs unchanged: each received text
 * message becomes one line (the message and a LF), and each line written is
 * sent as one text message. It uses the standard `WebSocket` client, which
 * Bun, Deno and Node 22+ all have.
 *
 * Messages that arrive between two reads are joined and encoded once, so the
 * per-message cost stays close to the TCP path's line search.
 *
 * @module
 */
import type { CloseReason, Conn, NetAddr } from "../runtime/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 0x0a;

class WsBenchConn implements Conn {
  readonly closed: Promise<CloseReason>;
  readonly remoteAddr: NetAddr;
  /** Received messages not yet read. */
  #pending: string[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #localClose = false;

  constructor(readonly socket: WebSocket, hostname: string, port: number) {
    this.remoteAddr = { hostname, port };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      this.#pending.push(event.data);
      this.#notify();
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (event: CloseEvent) => {
        this.#ended = true;
        this.#notify();
        resolve(this.#localClose ? "local" : event.code === 1006 ? "reset" : "eof");
      };
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  readonly readable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        while (this.#pending.length === 0) {
          if (this.#ended) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (this.#wake = resolve));
        }
        const text = this.#pending.length === 1 ? this.#pending[0] + "\n" : this.#pending.join("\n") + "\n";
        this.#pending = [];
        return { done: false, value: encoder.encode(text) };
      },
    }),
  };

  write(bytes: Uint8Array): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error("connection closed"));
    let start = 0;
    for (let lf = bytes.indexOf(LF); lf >= 0; lf = bytes.indexOf(LF, start)) {
      if (lf > start) this.socket.send(decoder.decode(bytes.subarray(start, lf)));
      start = lf + 1;
    }
    if (start < bytes.length) this.socket.send(decoder.decode(bytes.subarray(start)));
    return Promise.resolve();
  }

  closeWrite(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  close(): void {
    this.#localClose = true;
    this.socket.close();
  }

  setNoDelay(): void {}

  setKeepAlive(): void {}
}

/** Opens `ws://hostname:port/ws` as a {@linkcode Conn}. */
export function connectWebSocket(hostname: string, port: number): Promise<Conn> {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${host}:${port}/ws`);
    socket.onopen = () => resolve(new WsBenchConn(socket, hostname, port));
    socket.onerror = () => reject(new Error(`cannot open ws://${host}:${port}/ws`));
  });
}
