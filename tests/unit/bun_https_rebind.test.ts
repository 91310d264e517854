import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { rebindingHttpsServer, type StoppableServer } from "../../lib/runtime/_bun_https_rebind.ts";
import type { CertificatePair } from "../../lib/runtime/types.ts";
import { makeTestCerts } from "../support/tls_certs.ts";

const certs = makeTestCerts();
const read = (pair: { cert: string; key: string }): CertificatePair => ({ cert: readFileSync(pair.cert, "utf8"), key: readFileSync(pair.key, "utf8") });
const first = read(certs.server);
const second = read(certs.server2);

/** A stand-in for a Bun.serve server: records its pair and how it was stopped; stop() settles when `drained` is called. */
class FakeServer implements StoppableServer {
  stopped: boolean | undefined;
  drained!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.drained = resolve));
  constructor(readonly pair: CertificatePair, readonly port: number) {}
  stop(closeActiveConnections?: boolean): Promise<void> {
    this.stopped = closeActiveConnections ?? false;
    return this.#done;
  }
}

describe("Bun HTTPS pair swap by binding again", () => {
  const addr = { hostname: "127.0.0.1", port: 4443 };

  test("a good pair stops the old server gently and serves the new one on the same port; close waits for both", async () => {
    const made: FakeServer[] = [];
    const make = (pair: CertificatePair, port: number) => {
      const server = new FakeServer(pair, port);
      made.push(server);
      return server;
    };
    const old = new FakeServer(first, addr.port);
    const server = rebindingHttpsServer(addr, old, first, make);
    await server.setCertificate!(second);
    expect(old.stopped).toBe(false);
    expect(made.map((s) => [s.pair, s.port])).toEqual([[second, addr.port]]);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    made[0].drained();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The old server still has a connection open: close() waits for it.
    expect(closed).toBe(false);
    old.drained();
    await closing;
    expect(closed).toBe(true);
  });

  test("a mismatched pair is refused as bad_certificate and nothing is stopped", async () => {
    const old = new FakeServer(first, addr.port);
    let makes = 0;
    const server = rebindingHttpsServer(addr, old, first, (pair, port) => (makes++, new FakeServer(pair, port)));
    const error = await server.setCertificate!({ cert: second.cert, key: first.key }).catch((e) => e);
    expect(error.code).toBe("bad_certificate");
    expect(old.stopped).toBeUndefined();
    expect(makes).toBe(0);
  });

  test("when the port cannot be bound again, the old pair is bound again and the error is reported", async () => {
    const old = new FakeServer(first, addr.port);
    const made: FakeServer[] = [];
    const server = rebindingHttpsServer(addr, old, first, (pair, port) => {
      if (pair === second) throw new Error("address in use");
      const again = new FakeServer(pair, port);
      made.push(again);
      return again;
    });
    await expect(server.setCertificate!(second)).rejects.toThrow("address in use");
    expect(made.map((s) => s.pair)).toEqual([first]);
  });
});
