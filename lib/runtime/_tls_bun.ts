/**
 * TLS listener for Bun on Bun's own TLS (uSockets + BoringSSL), which moves
 * bytes several times faster than Bun's `node:tls`:
 * `Bun.listen` accepts plain TCP and each socket is upgraded with
 * `socket.upgradeTLS({ tls: { cert, key } })` (https://bun.com/docs/runtime/networking/tcp).
 * Upgrading per connection, rather than `Bun.listen({ tls })`, gives what the
 * server needs: the connection is yielded before its handshake (so it is
 * counted and timed out), and a reload only changes the pair the next
 * upgrade uses, with the port never closed (`Bun.listen`'s `reload` swaps
 * handlers only, and a second listener on the port is refused).
 * Bun's TLS refuses versions below 1.2 by default (checked with
 * `openssl s_client -tls1_1`: protocol_version alert).
 *
 * The client side stays on `node:tls` (`_tls.ts`): its certificate and host
 * name checks are the ones the other runtimes use.
 *
 * This file imports nothing from `bun.ts` at module level (`bun.ts` imports
 * it): the adapter passes its connection class in.
 *
 * @module
 */
import type { CertificatePair, Conn, NetAddr, TlsListener, TlsListenOptions } from "./types.ts";
import type { BunConn, BunSocketHandler } from "./bun.ts";
import { PushQueue } from "./_push_queue.ts";
import { listenError, normalizeHostname } from "./_net.ts";
import { checkCertificatePair } from "./_tls.ts";

/** What the Bun adapter lends this file. */
export interface BunTlsParts {
  BunConn: typeof BunConn;
  connHandlers: Omit<BunSocketHandler, "open">;
}

/** A raw TCP socket waiting to be upgraded; it carries no data of its own. */
type RawSocket = Bun.Socket<undefined>;

class BunTlsListener implements TlsListener {
  readonly addr: NetAddr;
  #closed = false;

  constructor(
    readonly server: Bun.TCPSocketListener<undefined>,
    readonly accepted: PushQueue<Conn>,
    readonly pair: { current: CertificatePair },
  ) {
    this.addr = { hostname: server.hostname, port: server.port };
  }

  setCertificate(pair: CertificatePair): void {
    checkCertificatePair(pair);
    this.pair.current = { cert: pair.cert, key: pair.key };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.stop(false);
    this.accepted.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.accepted;
  }
}

/** Binds a TLS listener on Bun; see {@linkcode Runtime.listenTls}. */
export function listenTlsBun(options: TlsListenOptions, parts: BunTlsParts): Promise<TlsListener> {
  try {
    checkCertificatePair(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const pair = { current: { cert: options.cert, key: options.key } };
  const accepted = new PushQueue<Conn>({ drop: (conn) => conn.close() });
  const upgrade = (raw: RawSocket) => {
    // The upgraded socket does not report the peer's address: take it from the TCP one.
    const remote = { hostname: normalizeHostname(raw.remoteAddress ?? ""), port: raw.remotePort ?? 0 };
    // The TLS socket's setNoDelay does not reach the file descriptor: without this, Nagle
    // and delayed ACKs hold small writes for 40 ms. Every user of this layer wants it off.
    raw.setNoDelay(true);
    let handshakeDone!: () => void;
    const handshake = new Promise<void>((resolve) => (handshakeDone = resolve));
    raw.upgradeTLS<BunConn>({
      tls: pair.current,
      socket: {
        ...parts.connHandlers,
        // With a `handshake` handler, `open` comes before the handshake.
        open(socket) {
          socket.data = new parts.BunConn(socket, handshake, remote);
          accepted.push(socket.data);
        },
        handshake(_socket, success) {
          if (success) handshakeDone();
        },
      },
    });
  };
  let server: Bun.TCPSocketListener<undefined>;
  try {
    server = Bun.listen<undefined>({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      // After the upgrade the TLS socket's handlers get every event; these see none.
      socket: { open: upgrade, data() {}, close() {} },
    });
  } catch (error) {
    return Promise.reject(listenError(options, error));
  }
  return Promise.resolve(new BunTlsListener(server, accepted, pair));
}
