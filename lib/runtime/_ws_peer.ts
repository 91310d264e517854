/**
 * What the three WebSocket adapters share: the settling of `closed` once,
 * and the check of an upgrade request before the runtime's own handshake.
 *
 * @module
 */
import type { WsClosed } from "./types.ts";

/** 1009: the message is too big to process (RFC 6455, 7.4.1). */
export const WS_MESSAGE_TOO_BIG = 1009;
/** 1006: the connection dropped without a close frame (never sent on the wire). */
export const WS_ABNORMAL = 1006;

/** A `closed` promise that settles once, and remembers whether this side closed first. */
export class ClosedLatch {
  readonly promise: Promise<WsClosed>;
  #settle!: (closed: WsClosed) => void;
  #done = false;
  /** Set by `close()` before the runtime reports the close. */
  local = false;

  constructor() {
    this.promise = new Promise((resolve) => (this.#settle = resolve));
  }

  /** Whether the socket has closed. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Whether this side may start a close now: false once closed or already
   * closing; true (and from now on counted as a local close) otherwise.
   */
  beginClose(): boolean {
    if (this.#done || this.local) return false;
    this.local = true;
    return true;
  }

  /**
   * Drops the connection through `drop` (the runtime's terminate) unless it
   * has closed already, and settles `closed` as abnormal at once.
   */
  terminate(drop: () => void): void {
    if (this.#done) return;
    this.local = true;
    drop();
    this.settle(WS_ABNORMAL);
  }

  /** Settles `closed` with `code` (once; later calls are ignored). */
  settle(code: number): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle({ code, local: this.local });
  }
}

/** Whether `request` asks for a WebSocket upgrade on `path`. */
export function isUpgradeOn(request: Request, path: string): boolean {
  return new URL(request.url).pathname === path;
}

/** The answer to a plain GET on the WebSocket path. */
export function upgradeRequired(): Response {
  return new Response("this path speaks WebSocket only\n", {
    status: 426,
    headers: { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" },
  });
}
