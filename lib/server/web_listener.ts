/**
 * The `http_listen` endpoint: the browser client at `/` (its assets are
 * built into the program, see `lib/web/`) and WebSocket at `/ws`, whose
 * peers become connections of the same chat server as TCP clients.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { log } from "../ops/log.ts";
import type { HttpHandler, HttpServer, NetAddr, Runtime } from "../runtime/types.ts";
import { WEB_ASSETS } from "../web/_assets.gen.ts";
import { parseHostPort } from "./metrics_http.ts";
import { readCertificatePair } from "./tls_endpoint.ts";
import type { ServerStats } from "./server_stats.ts";
import type { Transport } from "./transport.ts";
import { originAllowed } from "./ws_origin.ts";
import { WsTransport } from "./ws_transport.ts";

const logger = log("web");

/** What the web endpoint needs from the chat server. */
export interface WebTarget {
  readonly settings: Settings;
  readonly stats: ServerStats;
  /** Admits a new client (within the server's connection limits). */
  accept(transport: Transport): void;
}

/**
 * Headers on every page response. The page loads nothing but its own script
 * and style, and connects only back to this host: even if user text ever
 * reached the DOM as HTML, no inline script or outside resource would run.
 */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** Serves the page and its assets (GET and HEAD). */
export function pageHandler(): HttpHandler {
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = new URL(request.url).pathname;
    const asset = WEB_ASSETS[path === "/index.html" ? "/" : path];
    if (!asset) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    return new Response(request.method === "HEAD" ? null : asset.body, {
      headers: { ...PAGE_HEADERS, "content-type": asset.type, etag: asset.etag },
    });
  };
}

/**
 * Whether `http_listen` serves HTTPS (and `wss:`): `http_tls` `auto` with a
 * TLS listener configured. The page then logs in over an encrypted socket,
 * so `plaintext_auth` lets its passwords through.
 */
export function webUsesTls(settings: Pick<Settings, "http_tls" | "tls_listen">): boolean {
  return settings.http_tls === "auto" && settings.tls_listen !== "";
}

/**
 * Starts the endpoint on `settings.http_listen` (HOST:PORT), over HTTPS with
 * the `tls_cert`/`tls_key` pair when {@linkcode webUsesTls}; SIGHUP reads the
 * pair again through {@linkcode reloadWebCertificate}.
 */
export async function serveWeb(runtime: Runtime, target: WebTarget): Promise<HttpServer> {
  const { settings } = target;
  const secure = webUsesTls(settings);
  const tls = secure ? await readCertificatePair(runtime, settings) : undefined;
  return await runtime.serveHttp({ ...parseHostPort(settings.http_listen), tls }, pageHandler(), {
    path: "/ws",
    maxMessageBytes: settings.max_frame,
    check(request) {
      const origin = request.headers.get("origin");
      if (originAllowed(origin, request.headers.get("host"), settings.ws_origins)) return undefined;
      target.stats.countError("forbidden_origin");
      logger.warning("websocket refused: origin {origin} not in ws_origins", { origin });
      return new Response("origin not allowed (see the ws_origins setting)\n", {
        status: 403,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    },
    open(peer) {
      target.accept(new WsTransport(peer, secure));
    },
  });
}

/** The page's address for people (`https:` when `secure`): a wildcard bind is shown as localhost. */
export function pageUrl(addr: NetAddr, secure = false): string {
  const host = addr.hostname === "0.0.0.0" || addr.hostname === "::" ? "localhost" : addr.hostname;
  return `${secure ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${addr.port}/`;
}

/**
 * SIGHUP for an HTTPS `http_listen`: reads `tls_cert` and `tls_key` again
 * (their current paths) and serves new connections with that pair; open ones
 * (pages, WebSockets) keep theirs. On any problem logs it and keeps the pair
 * in use, as `tls_listen` does. Resolves with whether the new pair is in use
 * (false, with nothing logged, for a plain-http listener).
 */
export async function reloadWebCertificate(
  runtime: Pick<Runtime, "readTextFile">,
  web: HttpServer,
  settings: Pick<Settings, "tls_cert" | "tls_key">,
): Promise<boolean> {
  if (!web.setCertificate) return false;
  try {
    await web.setCertificate(await readCertificatePair(runtime, settings));
  } catch (error) {
    logger.error("web listener certificate reload failed, still serving the previous pair: {error}", {
      error: (error as Error).message,
      cert: settings.tls_cert,
      key: settings.tls_key,
    });
    return false;
  }
  logger.info("web listener certificate reloaded from {cert}", { cert: settings.tls_cert, key: settings.tls_key });
  return true;
}
