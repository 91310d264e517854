/**
 * Abuse resistance (issue 17): a client cannot flood the server's log. The
 * attack from the issue: 40 messages in one write, reconnect, repeat, with
 * the rate limits on. Each earned ~20 `rate_limited` lines at info level
 * (90 MB of log in 10 s from one client); now a connection's repeats of one
 * error code are logged at most once per second, the next line (or the
 * disconnect line) counting what was left out.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` msg frames as one string, sent in one write. */
const burst = (count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ type: "msg", room: "lobby", text: `spam ${i}` }) + "\n").join("");

/** The server's JSON log lines, parsed. */
function logLines(stderr: string): { message: string; properties: Record<string, unknown> }[] {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

describe.each(SERVER_RUNTIMES)("abuse: log volume (%s)", (runtime) => {
  test("40 messages in one write, reconnect, repeat: at most 3 log lines per connection", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "5", "--burst", "10", "--flood-strikes", "20"]);
    await server.waitForLog("listening");
    const before = logLines(server.stderr()).length;
    let connections = 0;
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      const c = await TestClient.register(server.port, `flood${connections++}`);
      c.send(burst(40));
      await c.waitFor((f) => f.type === "bye", 3000);
      await c.waitClosed();
    }
    await sleep(300); // The last disconnect line.
    const lines = logLines(server.stderr()).slice(before);
    const rateLimited = lines.filter((l) => l.properties.code === "rate_limited");
    const disconnects = lines.filter((l) => l.message.startsWith("disconnect"));
    // Per connection (each lives well under a second): one rate_limited line, one disconnect line.
    // Before: ~20 rate_limited lines per connection.
    expect(connections).toBeGreaterThan(5);
    expect(rateLimited.length).toBeLessThanOrEqual(connections);
    expect(lines.length).toBeLessThanOrEqual(3 * connections);
    // What was left out is counted on the disconnect line, so the log still says how hard each one pushed.
    expect(disconnects.length).toBe(connections);
    for (const line of disconnects) {
      expect(line.properties.reason).toBe("flood");
      expect(line.properties.suppressed).toEqual({ rate_limited: expect.any(Number) });
      expect((line.properties.suppressed as { rate_limited: number }).rate_limited).toBeGreaterThanOrEqual(15);
    }
  }, 20_000);

  test("a connection flood refused as server_full logs at most one line a second, with a count", async () => {
    await using server = await startChatServer(runtime, ["--per-ip-exempt-loopback", "false", "--max-per-ip", "1"]);
    const kept = await TestClient.connect(server.port, { localAddress: "127.0.0.2" });
    const started = Date.now();
    let refused = 0;
    for (let round = 0; round < 10; round++) {
      const wave = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(server.port, { localAddress: "127.0.0.2" })));
      for (const c of wave) {
        expect(await c.next()).toMatchObject({ type: "error", code: "server_full" });
        await c.waitClosed();
        refused++;
      }
      await sleep(150); // Spread over more than a second, so a second line comes with a count.
    }
    const elapsedS = (Date.now() - started) / 1000;
    const lines = logLines(server.stderr()).filter((l) => l.properties.code === "server_full");
    expect(refused).toBe(200);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    // Every line after the first says how many refusals it stands for.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(1)) expect(line.properties.suppressed).toBeGreaterThan(5);
    kept.destroy();
  }, 20_000);

  test("a connection that stays over the limit without being closed is logged once per second", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "5", "--burst", "10", "--flood-strikes", "100000"]);
    const c = await TestClient.register(server.port, "steady");
    const started = Date.now();
    while (Date.now() - started < 2500) {
      c.send(burst(40));
      await sleep(100);
    }
    const elapsedS = (Date.now() - started) / 1000;
    await c.request({ type: "ping" }); // Everything sent has been handled.
    const rateLimited = logLines(server.stderr()).filter((l) => l.properties.code === "rate_limited");
    expect(rateLimited.length).toBeGreaterThanOrEqual(2);
    expect(rateLimited.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    // Every line after the first counts the ones left out since the one before.
    const counted = rateLimited.slice(1).map((l) => l.properties.suppressed as number);
    for (const n of counted) expect(n).toBeGreaterThan(100);
    c.destroy();
  }, 20_000);
});
