/**
 * SIGHUP reload against the real server with clients connected: a valid file
 * applies at once without dropping anyone, an invalid one is refused and the
 * running configuration kept.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

const dir = mkdtempSync(join(tmpdir(), "tcpchat-reload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (n: number) => "x".repeat(n);

/** The JSON log lines a server wrote so far. */
function logLines(stderr: string): { message: string; level: string; properties: Record<string, unknown> }[] {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

describe.each(SERVER_RUNTIMES)("reload (%s)", (runtime) => {
  test("a valid file applies to connected clients: lower max_text, faster heartbeat, debug logs; nobody dropped", async () => {
    const config = join(dir, `valid-${runtime}.toml`);
    writeFileSync(config, "max_text = 100\n");
    await using server = await startChatServer(runtime, ["--config", config]);
    const alice = await TestClient.register(server.port, "alice");
    const bob = await TestClient.register(server.port, "bob");
    expect(await alice.request({ type: "msg", room: "lobby", text: text(50) })).toMatchObject({ type: "msg" });

    writeFileSync(
      config,
      'max_text = 10\nheartbeat_interval = "300ms"\nheartbeat_max_missed = 30\nlog_level = "debug"\nmetrics = "127.0.0.1:1"\n',
    );
    server.signal("SIGHUP");
    await server.waitForLog("reloaded");
    const reloadedAt = Date.now();
    await server.waitForLog("needs a restart");

    // Existing connections: the new max_text at once, and pings on the new interval.
    expect(await alice.request({ type: "msg", room: "lobby", text: text(50) })).toMatchObject({
      type: "error",
      code: "text_too_long",
    });
    expect(await alice.request({ type: "msg", room: "lobby", text: "short" })).toMatchObject({ type: "msg" });
    expect(await bob.waitFor((f) => f.type === "msg" && f.text === "short")).toBeDefined();
    // bob has been silent for longer than 300 ms; the sweep, once every second before the
    // reload, now runs every 75 ms, so the ping comes well before a second is over.
    expect(await bob.waitFor((f) => f.type === "ping", 2000)).toHaveProperty("t");
    expect(Date.now() - reloadedAt).toBeLessThan(600);
    // New connections are told the new limits.
    const carol = await TestClient.connect(server.port);
    const welcome = await carol.request({ type: "hello", nick: "carol" });
    expect(welcome.limits.max_text).toBe(10);
    expect(welcome.heartbeat.interval_ms).toBe(300);
    // Debug lines now show: a bad frame's error is logged at debug.
    carol.send("not json\n");
    const error = await carol.waitFor((f) => f.type === "error");
    await server.waitForLog(`"trace":"${error.trace}"`);

    const logs = logLines(server.stderr());
    const reloaded = logs.find((l) => l.message.startsWith("reloaded"))!;
    expect(reloaded.properties.changed).toMatchObject({ max_text: 10, heartbeat_interval: 300, log_level: "debug" });
    expect(logs.find((l) => l.message.includes("needs a restart"))!.properties).toMatchObject({
      setting: "metrics",
      running: "",
      wanted: "127.0.0.1:1",
    });
    expect(server.stdout()).not.toContain("metrics ");
    expect([alice.ended, bob.ended, carol.ended]).toEqual([false, false, false]);
    expect(server.stderr()).not.toContain('"disconnect');
    for (const c of [alice, bob, carol]) c.destroy();
  });

  test("an invalid file is refused with the reasons logged, and the running config stays", async () => {
    const config = join(dir, `invalid-${runtime}.toml`);
    writeFileSync(config, "max_text = 20\n");
    await using server = await startChatServer(runtime, ["--config", config]);
    const alice = await TestClient.register(server.port, "alice");

    writeFileSync(config, 'max_text = "lots"\nprot = 1\nrate_per_s = 0\n');
    server.signal("SIGHUP");
    await server.waitForLog("reload refused");
    const refused = logLines(server.stderr()).find((l) => l.message.startsWith("reload refused"))!;
    expect(refused.level).toBe("ERROR");
    expect(refused.properties.error).toContain(`${config}: max_text: expected a whole number, got "lots"`);
    expect(refused.properties.error).toContain(`${config}: prot: unknown setting (did you mean port?)`);

    // Still max_text 20 and the default rate limit (the valid rate_per_s = 0 was not applied either).
    expect(await alice.request({ type: "msg", room: "lobby", text: text(15) })).toMatchObject({ type: "msg" });
    expect(await alice.request({ type: "msg", room: "lobby", text: text(25) })).toMatchObject({ code: "text_too_long" });
    const newcomer = await TestClient.connect(server.port);
    expect((await newcomer.request({ type: "hello", nick: "newcomer" })).limits).toMatchObject({
      max_text: 20,
      rate_per_s: 5,
    });

    // Fixed, the next SIGHUP applies it.
    writeFileSync(config, "max_text = 5\n");
    server.signal("SIGHUP");
    await server.waitForLog("reloaded");
    expect(await alice.request({ type: "msg", room: "lobby", text: text(15) })).toMatchObject({ code: "text_too_long" });
    expect(alice.ended).toBe(false);
    alice.destroy();
    newcomer.destroy();
  });
});
