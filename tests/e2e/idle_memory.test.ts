/**
 * Memory given back after a burst (lib/server/idle_memory.ts) on every runtime
 * and artefact: the engine's collector must be reachable from inside the
 * process (V8's `gc` behind a flag set at run time, Bun's own calls), which
 * only a real process shows.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("idle memory release (%s)", (runtime) => {
  test("after a burst of chat the quiet server runs one collection, logs it and counts it, and keeps serving", async () => {
    await using server = await startChatServer(runtime, [
      "--metrics",
      "127.0.0.1:0",
      "--rate-per-s",
      "0",
      "--history",
      "5000",
      "--memory-release-growth",
      String(1024 * 1024),
    ]);
    // 2,000 kept messages of 15 KB (30 MB of history): well past 1 MiB of growth on every runtime.
    const client = await TestClient.register(server.port, "burst");
    const text = "x".repeat(15_000);
    for (let i = 0; i < 2000; i++) client.send({ type: "msg", room: "lobby", text, id: `m${i}` });
    await client.waitFor((f) => f.id === "m1999", 15_000);
    client.clear();
    await server.waitForLog("memory released while idle", 10_000);
    const line = server.stderr().split("\n").find((l) => l.includes("memory released while idle"))!;
    const fields = JSON.parse(line).properties as { rss_before: number; rss_after: number; pause_ms: number };
    expect(fields.rss_before).toBeGreaterThan(0);
    expect(fields.pause_ms).toBeGreaterThanOrEqual(0);
    const metricsLine = server.lines().find((l) => l.startsWith("metrics "))!;
    const metrics = await (await fetch(`http://${metricsLine.slice("metrics ".length)}/metrics`)).text();
    expect(Number(/^tcpchat_memory_releases_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(await client.request({ type: "msg", room: "lobby", text: "still here" })).toMatchObject({ type: "msg" });
    client.destroy();
  }, 40_000); // 60 MB through loopback, then half a second of quiet: seconds on a busy machine.
});
