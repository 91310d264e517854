/**
 * WebSocket on Deno: `Deno.serve` plus `Deno.upgradeWebSocket` —
 * https://docs.deno.com/api/deno/~/Deno.upgradeWebSocket
 *
 * Deno has no maximum message size option, so a message over
 * `maxMessageBytes` is measured here and the socket closed with 1009; Deno
 * has already read it whole by then (its own frame limit bounds that).
 * Deno's idle timeout (pings of its own) is turned off: the chat server's
 * heartbeat decides liveness the same way on every runtime.
 *
 * @module
 */
import type { HttpHandler, NetAddr, WebSocketOptions, WsClosed, WsPeer } from "./types.ts";
import { ClosedLatch, isUpgradeOn, upgradeRequired, WS_ABNORMAL, WS_MESSAGE_TOO_BIG } from "./_ws_peer.ts";
import { normalizeHostname } from "./_net.ts";

const encoder = new TextEncoder();

/** UTF-8 length of `text` when it may be over `max`, without encoding when the answer is clear. */
function overLimit(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return encoder.encode(text).length > max;
}

class DenoWsPeer implements WsPeer {
  onMessage: ((message: string | Uint8Array) => void) | null = null;
  readonly #latch = new ClosedLatch();

  constructor(readonly socket: WebSocket, readonly remoteAddr: NetAddr, maxMessageBytes: number) {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event: MessageEvent) => {
      const data = event.data;
      if (typeof data === "string") {
        if (overLimit(data, maxMessageBytes)) return this.close(WS_MESSAGE_TOO_BIG, "message too big");
        this.onMessage?.(data);
      } else {
        const bytes = new Uint8Array(data as ArrayBuffer);
        if (bytes.length > maxMessageBytes) return this.close(WS_MESSAGE_TOO_BIG, "message too big");
        this.onMessage?.(bytes);
      }
    };
    socket.onclose = (event: CloseEvent) => this.#latch.settle(event.code || WS_ABNORMAL);
    // An error is followed by close; nothing to do but not let it go unhandled.
    socket.onerror = () => {};
  }

  sendText(text: string): void {
    if (this.#latch.done || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(text);
  }

  /** Deno has no corking; each message is its own send (Deno queues them in order). */
  sendTexts(texts: readonly string[]): void {
    for (const text of texts) this.sendText(text);
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  close(code: number, reason = ""): void {
    if (this.#latch.beginClose()) this.#closeSocket(code, reason);
  }

  /**
   * Deno has no way to drop a server WebSocket's TCP connection: this sends
   * the close frame and settles `closed` at once; Deno frees the socket when
   * the peer answers, goes away, or its own close timeout passes.
   */
  terminate(): void {
    this.#latch.terminate(() => this.#closeSocket(1008, "terminated"));
  }

  #closeSocket(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  get closed(): Promise<WsClosed> {
    return this.#latch.promise;
  }
}

/** A `Deno.serve` handler: `handler` for plain requests, WebSocket upgrades on `websocket.path`. */
export function denoHandler(
  handler: HttpHandler,
  websocket: WebSocketOptions,
): (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response> {
  return (request, info) => {
    if (!isUpgradeOn(request, websocket.path)) return handler(request);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return upgradeRequired();
    const refusal = websocket.check(request);
    if (refusal) return refusal;
    // Read before the upgrade: afterwards the request is gone and so is `remoteAddr`.
    const addr = { hostname: normalizeHostname(info.remoteAddr.hostname), port: info.remoteAddr.port };
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    const peer = new DenoWsPeer(socket, addr, websocket.maxMessageBytes);
    socket.addEventListener("open", () => websocket.open(peer), { once: true });
    return response;
  };
}
