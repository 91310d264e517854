/**
 * The start-up JIT warm-up (`jit_warmup`, lib/server/jit_warmup.ts) on every
 * runtime and artefact: it runs before the server listens, says so in one
 * log line, and leaves nothing behind that a client or an operator could see
 * (no room, no connection, no counted frame, no disconnect line).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { defaultSettings } from "../../lib/config/settings.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import { warmUpMessagePath } from "../../lib/server/jit_warmup.ts";

describe("start-up JIT warm-up under the operator's limits", () => {
  test("settings that would refuse its clients or messages (per-address limits, rates, a short max_text or max_frame) do not stop it, and are as they were afterwards", async () => {
    const settings = {
      ...defaultSettings(),
      max_connections: 1,
      max_per_ip: 1,
      per_ip_exempt_loopback: false,
      connect_rate_per_ip: 0.5,
      connect_burst_per_ip: 1,
      rate_per_s: 1,
      burst: 1,
      flood_strikes: 1,
      max_text: 10,
      max_frame: 64,
    };
    const before = { ...settings };
    const report = await warmUpMessagePath(getRuntime(), settings, "test", 200);
    expect(report.messages).toBe(200);
    // The settings were lent to the private server, and are back as they were.
    expect(settings).toEqual(before);
  }, 20_000);
});

const root = mkdtempSync(join(tmpdir(), "tcpchat-warmup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(SERVER_RUNTIMES)("start-up JIT warm-up (%s)", (runtime) => {
  test.each([
    ["in memory", [] as string[]],
    // With a data directory the warm-up commits through SQLite, on a database in memory.
    ["with a data directory", ["--data-dir", join(root, runtime)]],
  ])("%s: passes its messages before listening and leaves no room, connection, counted frame or log line behind", async (_, flags) => {
    await using server = await startChatServer(runtime, ["--jit-warmup", "300", "--metrics", "127.0.0.1:0", "--log-level", "debug", ...flags]);
    await server.waitForLog(" listening on ");
    const logs = server.stderr().split("\n").filter((l) => l.includes("tcpchat."));
    const warmed = logs.findIndex((l) => l.includes("message path warmed up"));
    const listening = logs.findIndex((l) => l.includes(" listening on "));
    expect(warmed).toBeGreaterThanOrEqual(0);
    expect(warmed).toBeLessThan(listening);
    expect(JSON.parse(logs[warmed]!).properties.messages).toBe(300);
    // The private server's clients were never logged as connects or disconnects.
    expect(server.stderr()).not.toContain("disconnect conn=");
    expect(server.stderr()).not.toContain("connect conn=");

    const metricsLine = server.lines().find((l) => l.startsWith("metrics "))!;
    const metrics = await (await fetch(`http://${metricsLine.slice("metrics ".length)}/metrics`)).text();
    expect(metrics).toMatch(/^tcpchat_connections_accepted_total 0$/m);
    expect(metrics).toMatch(/^tcpchat_frames_in_total\{type="msg"\} 0$/m);

    const client = await TestClient.register(server.port, "first");
    // The rooms come from the store once the warm-up is over: with a data directory, this also
    // shows that the warm-up wrote nothing into the server's database.
    const rooms = await client.request({ type: "rooms" });
    expect(JSON.stringify(rooms)).not.toContain("warmup");
    expect(await client.request({ type: "msg", room: "lobby", text: "hello" })).toMatchObject({ type: "msg", seq: 1 });
    client.destroy();
  }, 30_000);
});
