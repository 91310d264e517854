/**
 * WebSocket on Node: the `ws` package (https://github.com/websockets/ws,
 * `doc/ws.md`) on the `node:http` server of `_node_http.ts`. Node has no
 * WebSocket server of its own. `ws` is loaded on the first upgrade-capable
 * server, so the other runtimes and servers without WebSocket never load it.
 *
 * `ws` enforces `maxPayload` itself (closing with 1009), validates UTF-8
 * (closing with 1007) and answers pings.
 *
 * @module
 */
import type * as http from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket as NodeWebSocket } from "ws";
import type { HttpHandler, NetAddr, WebSocketOptions, WsClosed, WsPeer } from "./types.ts";
import { ClosedLatch, isUpgradeOn, upgradeRequired, WS_ABNORMAL, WS_MESSAGE_TOO_BIG } from "./_ws_peer.ts";
import { normalizeHostname } from "./_net.ts";

class NodeWsPeer implements WsPeer {
  onMessage: ((message: string | Uint8Array) => void) | null = null;
  readonly #latch = new ClosedLatch();

  constructor(readonly ws: NodeWebSocket, readonly remoteAddr: NetAddr) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.onMessage?.(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString("utf8"));
    });
    // `ws` sends 1009 for an oversize message but then reports its own close as 1006:
    // report what was sent, as the other runtimes do.
    let tooBig = false;
    ws.on("close", (code: number) => this.#latch.settle(tooBig ? WS_MESSAGE_TOO_BIG : code || WS_ABNORMAL));
    // Oversize, bad UTF-8 and resets arrive here before `close`; `ws` has already sent the right status.
    ws.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") tooBig = true;
    });
  }

  sendText(text: string): void {
    if (this.#latch.done || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(text);
  }

  sendTexts(texts: readonly string[]): void {
    if (this.#latch.done || this.ws.readyState !== this.ws.OPEN) return;
    // `ws` writes each frame to the socket at once; corking makes the batch one writev.
    const socket = (this.ws as unknown as { _socket: { cork(): void; uncork(): void } | null })._socket;
    socket?.cork();
    for (const text of texts) this.ws.send(text);
    socket?.uncork();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
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
}

/** Writes a refusal (e.g. 403) on a socket that asked to upgrade, then closes it. */
async function refuse(socket: Duplex, response: Response): Promise<void> {
  const body = await response.text();
  const head = [`HTTP/1.1 ${response.status} ${response.statusText || "Refused"}`];
  response.headers.forEach((value, name) => head.push(`${name}: ${value}`));
  head.push(`content-length: ${Buffer.byteLength(body)}`, "connection: close", "", "");
  socket.end(head.join("\r\n") + body);
}

/**
 * Adds WebSocket upgrades on `websocket.path` to `server`; returns the plain
 * handler to serve everything else (a GET on the path without an upgrade gets 426).
 */
export function attachNodeWebSocket(
  server: http.Server,
  handler: HttpHandler,
  websocket: WebSocketOptions,
  toRequest: (req: http.IncomingMessage) => Request,
): HttpHandler {
  let wss: import("ws").WebSocketServer | undefined;
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    const request = toRequest(req);
    if (!isUpgradeOn(request, websocket.path)) {
      void refuse(socket, new Response("not found\n", { status: 404 }));
      return;
    }
    const refusal = websocket.check(request);
    if (refusal) {
      void refuse(socket, refusal);
      return;
    }
    void (async () => {
      if (!wss) {
        const { WebSocketServer } = await import("ws");
        wss ??= new WebSocketServer({ noServer: true, maxPayload: websocket.maxMessageBytes, clientTracking: false });
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const addr = { hostname: normalizeHostname(req.socket.remoteAddress ?? ""), port: req.socket.remotePort ?? 0 };
        websocket.open(new NodeWsPeer(ws, addr));
      });
    })();
  });
  return (request) => isUpgradeOn(request, websocket.path) ? upgradeRequired() : handler(request);
}
