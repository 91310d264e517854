/**
 * The operations HTTP endpoint (`--metrics HOST:PORT`), served through the
 * runtime layer: `/metrics` (Prometheus text), `/healthz` (200 while the
 * process runs) and `/readyz` (200 while listening and not shutting down,
 * else 503, so a load balancer stops sending new clients during a drain).
 *
 * @module
 */
import type { HttpHandler, HttpServer, ListenOptions, Runtime } from "../runtime/types.ts";
import { METRICS_CONTENT_TYPE, type MetricsSource, renderMetrics } from "./metrics.ts";

/** `127.0.0.1:9100` or `[::1]:9100` as listen options (the settings table has checked the shape). */
export function parseHostPort(address: string): ListenOptions {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** The request handler, separate from the socket so it can be called directly. */
export function opsHandler(source: MetricsSource): HttpHandler {
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { ...TEXT, allow: "GET, HEAD" } });
    }
    switch (new URL(request.url).pathname) {
      case "/metrics":
        return new Response(renderMetrics(source), { headers: { "content-type": METRICS_CONTENT_TYPE } });
      case "/healthz":
        return new Response("ok\n", { headers: TEXT });
      case "/readyz":
        return source.ready
          ? new Response("ready\n", { headers: TEXT })
          : new Response("not ready\n", { status: 503, headers: TEXT });
      default:
        return new Response("not found: try /metrics, /healthz or /readyz\n", { status: 404, headers: TEXT });
    }
  };
}

/** Starts the endpoint on `address` (HOST:PORT). */
export function serveOps(runtime: Runtime, address: string, source: MetricsSource): Promise<HttpServer> {
  return runtime.serveHttp(parseHostPort(address), opsHandler(source));
}
