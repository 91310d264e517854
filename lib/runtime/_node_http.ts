/**
 * Bridges `node:http` (https://nodejs.org/api/http.html) to a fetch-style
 * handler: each `IncomingMessage` becomes a `Request`, and the handler's
 * `Response` is written back with the socket's backpressure respected.
 * Used by the Node adapter, and by Deno for HTTPS: `Deno.serve` cannot change
 * its pair, and stopping it to bind again closes its WebSockets (with 1001,
 * checked on Deno 2.9.6), whereas `setSecureContext` swaps the pair in place.
 *
 * @module
 */

import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { CertificatePair, HttpHandler, HttpListenOptions, HttpServer, WebSocketOptions } from "./types.ts";
import { attachNodeWebSocket } from "./_ws_node.ts";
import { listenError, netError, normalizeHostname } from "./_net.ts";
import { checkCertificatePair, MIN_VERSION } from "./_tls.ts";

/** Builds a `Request` from Node's request; the body streams, it is not read up front. */
export function toRequest(req: http.IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    // Required by Node's fetch for a streaming request body.
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** Writes `response` to `res`, waiting for `drain` when Node's buffer is full. */
async function writeResponse(response: Response, res: http.ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  for await (const chunk of response.body) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
  }
  res.end();
}

/**
 * Swaps the pair of a `node:https` server for new connections; open ones keep
 * theirs. The pair is checked first: Deno's `node:tls` does not match the key
 * to the certificate, and a bad pair must leave the one in use unchanged.
 */
function setServerCertificate(server: https.Server, pair: CertificatePair): Promise<void> {
  try {
    checkCertificatePair(pair);
    server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: MIN_VERSION });
    return Promise.resolve();
  } catch (error) {
    if ((error as { code?: string }).code === "bad_certificate") return Promise.reject(error);
    return Promise.reject(netError("bad_certificate", (error as Error).message, error));
  }
}

/**
 * Serves `handler` over `node:http` (`node:https` with `options.tls`, whose
 * pair `setCertificate` swaps); a throwing handler becomes a 500.
 */
export function serveNodeHttp(options: HttpListenOptions, handler: HttpHandler, websocket?: WebSocketOptions): Promise<HttpServer> {
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    (async () => writeResponse(await serve(toRequest(req)), res))().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  let server: http.Server;
  try {
    if (options.tls) checkCertificatePair(options.tls);
    server = options.tls
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: MIN_VERSION }, listener)
      : http.createServer(listener);
  } catch (error) {
    return Promise.reject(error);
  }
  const serve = websocket ? attachNodeWebSocket(server, handler, websocket, toRequest) : handler;
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(listenError(options, error)));
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.removeAllListeners("error");
      server.on("error", () => {});
      const address = server.address() as AddressInfo;
      resolve({
        addr: { hostname: normalizeHostname(address.address), port: address.port },
        ...(options.tls ? { setCertificate: (pair: CertificatePair) => setServerCertificate(server as https.Server, pair) } : {}),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive sockets with no request in flight would hold close() open.
            server.closeIdleConnections();
          }),
      });
    });
  });
}
