/**
 * WebSocket on Bun: `Bun.serve` with `websocket` handlers —
 * https://bun.com/docs/runtime/http/websockets
 *
 * Bun enforces `maxPayloadLength` itself (closing with 1009), answers pings
 * and buffers sends past the kernel's buffer (`getBufferedAmount`). Its own
 * idle timeout is turned off: the chat server's heartbeat decides liveness
 * the same way on every runtime.
 *
 * Behaviour relied on (checked against Bun 1.4.5): `send` returns 0 only
 * past `backpressureLimit`, which is set far above any `max_pending`, so a
 * dropped message means the peer is hopeless and it is closed.
 *
 * @module
 */
import type { HttpHandler, HttpListenOptions, NetAddr, WebSocketOptions, WsClosed, WsPeer } from "./types.ts";
import { ClosedLatch, isUpgradeOn, upgradeRequired, WS_ABNORMAL, WS_MESSAGE_TOO_BIG } from "./_ws_peer.ts";
import { normalizeHostname } from "./_net.ts";

/** Per-socket data Bun keeps for us. */
interface BunWsData {
  addr: NetAddr;
  peer: BunWsPeer | null;
}

/** Past this, Bun drops sends; far above any sensible max_pending. */
const BACKPRESSURE_LIMIT_BYTES = 256 * 1024 * 1024;

class BunWsPeer implements WsPeer {
  onMessage: ((message: string | Uint8Array) => void) | null = null;
  readonly #latch = new ClosedLatch();

  constructor(readonly ws: Bun.ServerWebSocket<BunWsData>, readonly remoteAddr: NetAddr) {}

  sendText(text: string): void {
    if (this.#latch.done) return;
    // 0: dropped past backpressureLimit; the peer has stopped reading for good.
    if (this.ws.sendText(text) === 0) this.close(1008, "slow_consumer");
  }

  sendTexts(texts: readonly string[]): void {
    if (this.#latch.done) return;
    // Outside Bun's own handlers sends are not corked: without this, a system call per message.
    this.ws.cork(() => {
      for (const text of texts) this.sendText(text);
    });
  }

  get bufferedAmount(): number {
    return this.#latch.done ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason = ""): void {
    if (this.#latch.beginClose()) this.ws.close(code, reason);
  }

  terminate(): void {
    this.#latch.terminate(() => this.ws.terminate());
  }

  get closed(): Promise<WsClosed> {
    return this.#latch.promise;
  }

  /** Bun's `close` handler. */
  onClose(code: number): void {
    this.#latch.settle(code || WS_ABNORMAL);
  }
}

/** `Bun.serve` of `handler` plus WebSocket upgrades on `websocket.path`. */
export function serveBunWebSocket(
  options: HttpListenOptions,
  handler: HttpHandler,
  websocket: WebSocketOptions,
): Bun.Server<BunWsData> {
  return Bun.serve<BunWsData>({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
    fetch(request, server) {
      if (!isUpgradeOn(request, websocket.path)) return handler(request);
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return upgradeRequired();
      const refusal = websocket.check(request);
      if (refusal) return refusal;
      const ip = server.requestIP(request);
      const addr = { hostname: normalizeHostname(ip?.address ?? ""), port: ip?.port ?? 0 };
      if (server.upgrade(request, { data: { addr, peer: null } })) return undefined;
      return upgradeRequired();
    },
    websocket: {
      maxPayloadLength: websocket.maxMessageBytes,
      backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
      idleTimeout: 0,
      open(ws) {
        const peer = new BunWsPeer(ws, ws.data.addr);
        ws.data.peer = peer;
        websocket.open(peer);
      },
      message(ws, message) {
        ws.data.peer?.onMessage?.(typeof message === "string" ? message : new Uint8Array(message));
      },
      close(ws, code, reason) {
        // Bun reports its own close for an oversize message as 1006 "Received too big message",
        // though it sent 1009 on the wire: report what was sent, as the other runtimes do.
        ws.data.peer?.onClose(code === WS_ABNORMAL && /too big/i.test(reason) ? WS_MESSAGE_TOO_BIG : code);
      },
    },
  });
}
