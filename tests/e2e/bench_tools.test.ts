/**
 * The measuring tools of docs/benchmarks.md ("The floor under the B and F
 * tails") keep working: the floor relay speaks what ../shared/bench needs, in
 * the anchors' frame layout, and the latency probe counts the kit's stamped
 * messages through both the relay and `tcpchat serve`.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { RUNTIMES, spawnServer } from "../support/runtimes.ts";

/** A text as the kit sends it: `@`, a 19-digit stamp, padding. */
const stamped = (n: number) => `@${String(1_000_000_000 + n).padStart(19, "0")}${"x".repeat(20)}`;

/** A subscriber and a publisher in room r0; the publisher sends `count` stamped messages and both read them. */
async function chat(port: number, count: number): Promise<string[]> {
  const sub = await TestClient.register(port, "sub", { defaultRoom: null });
  const pub = await TestClient.register(port, "pub", { defaultRoom: null });
  for (const client of [sub, pub]) {
    client.send({ type: "join", room: "r0" });
    await client.waitFor((f) => f.type === "room" && f.room === "r0");
  }
  for (let i = 1; i <= count; i++) pub.send({ type: "msg", room: "r0", text: stamped(i) });
  const received: string[] = [];
  for (let i = 1; i <= count; i++) {
    received.push(await sub.waitForLine(/^\{"type":"msg"/));
    await pub.waitForLine(/^\{"type":"msg"/);
  }
  sub.socket.end();
  pub.socket.end();
  await Promise.all([sub.closed, pub.closed]);
  return received;
}

for (const runtime of RUNTIMES.filter((r) => r !== "node")) {
  describe(`bench tools on ${runtime}`, () => {
    test("the floor relay answers hello and join and relays each msg to every member in the anchors' layout", async () => {
      await using relay = await spawnServer(runtime, "scripts/floor_relay.ts", [], { env: { PORT: "0" } });
      const received = await chat(relay.port, 2);
      expect(received).toHaveLength(2);
      expect(received[0]).toMatch(new RegExp(`^\\{"type":"msg","room":"r0","from":"pub","text":"${stamped(1)}","seq":1,"ts":\\d+\\}$`));
      expect(JSON.parse(received[1]!).seq).toBe(2);
    }, 20_000);

    test("the latency probe reports every stamped message and both copies of it, through the relay and through tcpchat serve", async () => {
      await using relay = await spawnServer(runtime, "scripts/latency_probe.ts", ["relay", "--port", "0"]);
      await chat(relay.port, 3);
      await relay.waitForLine(/read to write n=6 /, { stream: "stderr" });
      expect(relay.stderr()).toMatch(/read late +n=3 p50=\d+ p99=\d+ p99\.9=\d+ max=\d+ us/);

      await using server = await spawnServer(runtime, "scripts/latency_probe.ts", [
        "serve", "--port", "0", "--rate-per-s", "0", "--default-room", "", "--memory", "--log-level", "warning",
      ]);
      await chat(server.port, 4);
      await server.waitForLine(/read to write n=8 /, { stream: "stderr" });
      expect(server.stderr()).toMatch(/read late +n=4 /);
    }, 30_000);
  });
}
