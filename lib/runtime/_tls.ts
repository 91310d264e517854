/**
 * TLS through `node:tls` over a `node:net` listener: the listener on Node and
 * Deno, and the client on all three runtimes (Bun's listener is in
 * `_tls_bun.ts`). https://nodejs.org/api/tls.html (Deno:
 * https://docs.deno.com/api/node/tls/, Bun: https://bun.com/docs/runtime/nodejs-compat).
 *
 * Why `node:tls` rather than `Deno.listenTls` / `Deno.connectTls`:
 * - Reload. A `node:tls` socket takes its `SecureContext` when it is made, so
 *   swapping the context serves new connections with a new pair while old
 *   ones keep theirs, with the port never closed. `Deno.listenTls` has no way
 *   to change its pair.
 * - Handshakes are visible. The raw TCP socket is accepted first and wrapped
 *   here, so the {@linkcode Conn} is yielded before the handshake: the server
 *   counts it against its limits and cuts it at `register_timeout`.
 * - Clients: `Deno.connectTls` cannot skip chain verification (`--insecure`),
 *   and one client gives the same certificate and host name checks everywhere.
 * Checked on Bun 1.4.5, Deno 2.9.6 and Node 24 by the conformance suite.
 *
 * TLS 1.2 is the minimum version on both sides.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { CertificatePair, Conn, NetAddr, TlsConnectOptions, TlsListener, TlsListenOptions } from "./types.ts";
import { PushQueue } from "./_push_queue.ts";
import { formatAddr, listenError, netError, type NetError, normalizeHostname } from "./_net.ts";
import { NodeConn } from "./node.ts";

/** The oldest TLS version served or spoken. */
export const MIN_VERSION = "TLSv1.2";

/**
 * Deno 2.9.6's `node:tls` loses the peer's `end` when a socket is paused and
 * resumed (seen with an echo of 300 KB): reads are not paused there, so a TLS
 * peer on Deno is read as fast as it sends. The server's reader keeps pulling
 * anyway, and each line is bounded by `max_frame`.
 */
const PAUSABLE = !("Deno" in globalThis);

/**
 * Checks `pair` and builds a server context from it. Throws a
 * {@linkcode NetError} `bad_certificate` saying what is wrong. The key is
 * matched to the certificate here, since Deno's `createSecureContext` does
 * not check it (Node's and Bun's do).
 */
export function secureContextFor(pair: CertificatePair): tls.SecureContext {
  checkCertificatePair(pair);
  try {
    return tls.createSecureContext({ cert: pair.cert, key: pair.key, minVersion: MIN_VERSION });
  } catch (error) {
    throw badCertificate((error as Error).message, error);
  }
}

/**
 * Checks that `pair` holds a PEM certificate and the private key that belongs
 * to it; throws a {@linkcode NetError} `bad_certificate` saying what is wrong.
 */
export function checkCertificatePair(pair: CertificatePair): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.cert);
  } catch (error) {
    throw badCertificate(`certificate is not a PEM X.509 certificate: ${(error as Error).message}`, error);
  }
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    throw badCertificate(`key is not an unencrypted PEM private key: ${(error as Error).message}`, error);
  }
  if (!certificate.checkPrivateKey(key)) throw badCertificate("key does not match the certificate");
}

function badCertificate(message: string, cause?: unknown): NetError {
  return netError("bad_certificate", message, cause);
}

/** A `node:net` listener whose sockets are wrapped in TLS with the current context. */
class NodeTlsListener implements TlsListener {
  readonly addr: NetAddr;
  readonly #server: net.Server;
  readonly #accepted: PushQueue<Conn>;
  #closed = false;

  constructor(server: net.Server, accepted: PushQueue<Conn>, readonly context: { current: tls.SecureContext }) {
    this.#server = server;
    this.#accepted = accepted;
    const address = server.address() as net.AddressInfo;
    this.addr = { hostname: normalizeHostname(address.address), port: address.port };
  }

  setCertificate(pair: CertificatePair): void {
    this.context.current = secureContextFor(pair);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    this.#accepted.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#accepted;
  }
}

/** Wraps an accepted TCP socket in a server-side TLS socket; the handshake runs as bytes arrive. */
function wrapServerSocket(raw: net.Socket, context: tls.SecureContext): Conn {
  const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
  // The TLS socket is what the Conn sees; the raw one must not crash the process on a reset.
  raw.on("error", () => {});
  const handshake = new Promise<void>((resolve) => socket.once("secure", () => resolve()));
  return new NodeConn(socket, handshake, raw, PAUSABLE);
}

/** Binds a TLS listener; see {@linkcode Runtime.listenTls}. */
export function listenTls(options: TlsListenOptions): Promise<TlsListener> {
  let context: { current: tls.SecureContext };
  try {
    context = { current: secureContextFor(options) };
  } catch (error) {
    return Promise.reject(error);
  }
  const accepted = new PushQueue<Conn>({ drop: (conn) => conn.close() });
  const server = net.createServer({ allowHalfOpen: true }, (raw) => accepted.push(wrapServerSocket(raw, context.current)));
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(listenError(options, error)));
    server.listen({ host: options.hostname, port: options.port }, () => {
      // Later errors (EMFILE on accept) must not crash the process; the server keeps listening.
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve(new NodeTlsListener(server, accepted, context));
    });
  });
}

/** Opens a TLS connection and completes the handshake; see {@linkcode Runtime.connectTls}. */
export function connectTls(options: TlsConnectOptions): Promise<Conn> {
  const serverName = options.serverName ?? options.hostname;
  const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    host: options.hostname,
    port: options.port,
    // Passed on to the TCP socket (missing from @types/node): our FIN must not end the peer's side.
    allowHalfOpen: true,
    minVersion: MIN_VERSION,
    rejectUnauthorized: options.insecure !== true,
    // SNI carries DNS names only; an IP is still checked against the certificate's IP entries.
    servername: net.isIP(serverName) === 0 ? serverName : undefined,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
  };
  if (options.ca !== undefined) tlsOptions.ca = options.ca;
  return new Promise((resolve, reject) => {
    const socket = tls.connect(tlsOptions);
    const onError = (error: Error) => {
      socket.destroy();
      reject(tlsError(options, error));
    };
    socket.once("error", onError);
    socket.once("secureConnect", () => {
      socket.off("error", onError);
      resolve(new NodeConn(socket, Promise.resolve(), socket, PAUSABLE));
    });
  });
}

/** The error a failed TLS connect rejects with: refused stays `connection_refused`, the rest is `tls_failed`. */
function tlsError(addr: NetAddr, cause: Error): NetError {
  const code = (cause as { code?: string }).code ?? "";
  const what = `TLS connection to ${formatAddr(addr)}`;
  if (code === "ECONNREFUSED") return netError("connection_refused", `${what} failed: connection refused (ECONNREFUSED)`, cause);
  return netError("tls_failed", `${what} failed: ${cause.message}${code ? ` (${code})` : ""}`, cause);
}
