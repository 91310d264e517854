/**
 * A new certificate pair for Bun's HTTPS server. `Bun.serve` cannot change its
 * pair (`server.reload({ tls })` swaps handlers only: checked on Bun 1.4.5,
 * the old certificate was still served), so a new pair means a new server on
 * the same port: the old one stops listening with `stop(false)`, which keeps
 * its open requests and WebSockets running to their end, and the new one
 * binds the freed port in the same tick. A connection attempt that lands in
 * the microseconds between the two is refused and retried by the client.
 *
 * @module
 */
import type { CertificatePair, HttpServer, NetAddr } from "./types.ts";
import { checkCertificatePair } from "./_tls.ts";

/** What is needed of a `Bun.serve` server. */
export interface StoppableServer {
  /** Stops listening; `false` lets open connections finish. Resolves once all are closed. */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/**
 * An {@linkcode HttpServer} over `first` whose `setCertificate` serves the
 * new pair from a server made by `make` on the same address. If that bind
 * fails, the old pair is bound again (and the error thrown); the servers
 * already stopped are awaited by `close`.
 */
export function rebindingHttpsServer<S extends StoppableServer>(
  addr: NetAddr,
  first: S,
  firstPair: CertificatePair,
  make: (pair: CertificatePair, port: number) => S,
): HttpServer {
  let current = first;
  let pair = firstPair;
  const draining: Promise<void>[] = [];
  return {
    addr,
    close: async () => {
      await Promise.all([current.stop(), ...draining]);
    },
    setCertificate(next: CertificatePair): Promise<void> {
      try {
        checkCertificatePair(next);
      } catch (error) {
        return Promise.reject(error);
      }
      // Kept until its last connection ends, so close() still waits for it; dropped then, so
      // the list stays as long as the servers actually draining.
      const stopped: Promise<void> = current.stop(false).finally(() => draining.splice(draining.indexOf(stopped), 1));
      draining.push(stopped);
      try {
        current = make(next, addr.port);
        pair = next;
        return Promise.resolve();
      } catch (error) {
        // Something took the port in between: serve the old pair again if it can be had.
        try {
          current = make(pair, addr.port);
        } catch {
          return Promise.reject(new Error(`cannot listen on port ${addr.port} again: ${(error as Error).message}`, { cause: error }));
        }
        return Promise.reject(error);
      }
    },
  };
}
