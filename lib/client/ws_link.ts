/**
 * {@linkcode FrameLink} over the standard `WebSocket` (browsers; also Deno,
 * Bun and Node 22+): one text message per frame.
 *
 * @module
 */
import type { Dialer, FrameLink } from "./link.ts";

class WsLink implements FrameLink {
  readonly closed: Promise<string>;
  #onFrame: ((text: string) => void) | null = null;
  /** Frames that came before `start` (none in practice: events are tasks, `start` follows in a microtask). */
  #early: string[] = [];

  constructor(readonly socket: WebSocket) {
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      if (this.#onFrame) this.#onFrame(event.data);
      else this.#early.push(event.data);
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (event: CloseEvent) => resolve(`closed ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
    });
  }

  start(onFrame: (text: string) => void): void {
    this.#onFrame = onFrame;
    for (const text of this.#early.splice(0)) onFrame(text);
  }

  send(text: string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  close(): void {
    this.socket.close();
  }
}

/** Dials the WebSocket at `url` (e.g. `ws://127.0.0.1:7780/ws`). */
export function wsDialer(url: string): Dialer {
  return () =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => resolve(new WsLink(socket));
      socket.onerror = () => reject(new Error(`cannot open ${url}`));
    });
}
