/**
 * A TCP proxy on 127.0.0.1 that tests can cut, to play a network that fails:
 * `cutAll()` drops every client-side connection, optionally leaving the
 * server side open (a half-dead link, as after a cable pull).
 */
import * as net from "node:net";

/** A running proxy. */
export interface TcpProxy {
  port: number;
  /** Connections made through it so far. */
  connections(): number;
  /** Drops client sides; with `keepServerSide`, the server side stays open and silent. */
  cutAll(options?: { keepServerSide?: boolean }): void;
  /** While true, new connections are dropped at once (the far side is unreachable). */
  refusing: boolean;
  close(): void;
}

/** Forwards 127.0.0.1:<port> to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let count = 0;
  const proxy = { refusing: false };
  const server = net.createServer((client) => {
    if (proxy.refusing) return void client.resetAndDestroy();
    count++;
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", () => pairs.has(pair) && drop());
    upstream.on("error", drop).on("close", () => pairs.has(pair) && drop());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(proxy, {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    cutAll({ keepServerSide = false } = {}) {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.resetAndDestroy();
        if (!keepServerSide) pair.upstream.destroy();
        else pair.upstream.on("data", () => {}); // keep reading so the server never sees backpressure
      }
    },
    close() {
      server.close();
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
  });
}
