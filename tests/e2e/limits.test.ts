/**
 * Limits and liveness against the real server: floods, connection limits,
 * register and heartbeat timeouts, slow readers, resets and shutdown.
 * Each case starts its own server with short timings.
 */
import { describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(SERVER_RUNTIMES)("limits (%s)", (runtime) => {
  test("a message flood: peers get at most burst + rate x time, the flooder rate_limited then bye flood", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "5", "--burst", "10", "--flood-strikes", "20"]);
    const peer = await TestClient.register(server.port, "peer");
    const flooder = await TestClient.register(server.port, "flooder");
    const started = Date.now();
    for (let i = 0; i < 200; i++) flooder.send({ type: "msg", room: "lobby", text: `spam ${i}` });
    const flooderSaw: Frame[] = [];
    await flooder.waitFor((f) => flooderSaw.push(f) > 0 && f.type === "bye", 5000);
    const elapsedS = (Date.now() - started) / 1000;
    expect(flooderSaw.some((f) => f.type === "error" && f.code === "rate_limited" && f.retry_after_ms > 0)).toBe(true);
    expect(flooderSaw.at(-1)).toEqual({ type: "bye", reason: "flood" });
    await flooder.waitClosed();
    let delivered = 0;
    const leave = await peer.waitFor((f) => {
      if (f.type === "msg") delivered++;
      return f.type === "leave" && f.nick === "flooder";
    });
    expect(leave.reason).toBe("flood");
    expect(delivered).toBe(10);
    expect(delivered).toBeLessThanOrEqual(10 + Math.ceil(5 * elapsedS) + 1);
    peer.destroy();
  });

  test("rate_limited carries retry_after_ms and the frame is dropped", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "2", "--burst", "1"]);
    const c = await TestClient.register(server.port, "eager");
    expect(await c.request({ type: "msg", room: "lobby", text: "one" })).toMatchObject({ type: "msg" });
    const limited = await c.request({ type: "msg", room: "lobby", text: "two" });
    expect(limited).toMatchObject({ type: "error", code: "rate_limited" });
    expect(limited.retry_after_ms).toBeGreaterThan(0);
    expect(limited.retry_after_ms).toBeLessThanOrEqual(500);
    c.destroy();
  });

  test("connection flood from one address (loopback exemption off): server_full past max_per_ip", async () => {
    await using server = await startChatServer(runtime, [
      "--host",
      "127.0.0.1",
      "--per-ip-exempt-loopback",
      "false",
      "--max-per-ip",
      "3",
    ]);
    const kept = [];
    for (let i = 0; i < 3; i++) kept.push(await TestClient.connect(server.port, { localAddress: "127.0.0.2" }));
    const refused = await TestClient.connect(server.port, { localAddress: "127.0.0.2" });
    expect(await refused.next()).toMatchObject({ type: "error", code: "server_full" });
    await refused.waitClosed();
    // Another address is not affected, and a slot frees up when one closes.
    const other = await TestClient.register(server.port, "other");
    kept[0].destroy();
    await sleep(200);
    const again = await TestClient.connect(server.port, { localAddress: "127.0.0.2" });
    expect(await again.request({ type: "hello", nick: "again" })).toMatchObject({ type: "welcome" });
    for (const c of [...kept, other, again]) c.destroy();
  });

  test("max_connections refuses with server_full", async () => {
    await using server = await startChatServer(runtime, ["--max-connections", "2"]);
    const a = await TestClient.connect(server.port);
    const b = await TestClient.connect(server.port);
    const c = await TestClient.connect(server.port);
    expect(await c.next()).toMatchObject({ code: "server_full" });
    a.destroy();
    b.destroy();
  });

  test("a half-sent hello is closed at register_timeout", async () => {
    await using server = await startChatServer(runtime, ["--register-timeout", "400ms"]);
    const c = await TestClient.connect(server.port);
    c.send('{"type":"hello","ni');
    const started = Date.now();
    await c.waitClosed(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await server.waitForLog('"reason":"register_timeout"');
  });

  test("a peer that stops answering pings is timed out; its rooms hear leave timeout and presence offline", async () => {
    await using server = await startChatServer(runtime, ["--heartbeat-interval", "200ms", "--heartbeat-max-missed", "3"]);
    const watcher = await TestClient.register(server.port, "watcher");
    const silent = await TestClient.register(server.port, "silent");
    // The watcher answers pings; the silent one never does.
    const answering = setInterval(() => watcher.send({ type: "pong" }), 100);
    try {
      expect(await silent.waitFor((f) => f.type === "ping", 2000)).toHaveProperty("t");
      expect(await silent.waitFor((f) => f.type === "bye", 3000)).toEqual({ type: "bye", reason: "timeout" });
      await silent.waitClosed();
      expect(await watcher.waitFor((f) => f.type === "leave")).toEqual({
        type: "leave",
        room: "lobby",
        nick: "silent",
        reason: "timeout",
      });
      expect(await watcher.waitFor((f) => f.type === "presence")).toEqual({
        type: "presence",
        nick: "silent",
        status: "offline",
        reason: "timeout",
      });
      expect(watcher.ended).toBe(false);
    } finally {
      clearInterval(answering);
      watcher.destroy();
    }
  });

  test("an abrupt reset mid-session: presence cleaned up, nick free, no crash", async () => {
    await using server = await startChatServer(runtime, []);
    const watcher = await TestClient.register(server.port, "watcher2");
    const victim = await TestClient.register(server.port, "victim");
    victim.send('{"type":"msg","room":"lobby","te');
    await sleep(50);
    victim.reset();
    expect(await watcher.waitFor((f) => f.type === "presence")).toMatchObject({ nick: "victim", status: "offline" });
    const again = await TestClient.register(server.port, "victim");
    expect(again.ended).toBe(false);
    again.destroy();
    watcher.destroy();
  });

  test("a reader that never reads is closed as slow_consumer; others keep receiving; memory stays bounded", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--max-pending", "256KiB"]);
    const publisher = await TestClient.register(server.port, "pub");
    const reader = await TestClient.register(server.port, "reader");
    const slow = await TestClient.register(server.port, "slow");
    slow.socket.pause();
    const rssBefore = server.rssBytes();
    const text = "y".repeat(3900);
    let delivered = 0;
    let leave: Frame | undefined;
    // About 40 MB towards the slow reader, far more than kernel buffers and max_pending, sent in
    // windows the healthy reader keeps up with, so only the slow one falls behind.
    for (let sent = 0; sent < 10_000 && !leave; ) {
      for (let i = 0; i < 50; i++, sent++) publisher.send({ type: "msg", room: "lobby", text });
      while (delivered < sent && !leave) {
        const f = await reader.next(10_000);
        if (f.type === "msg") delivered++;
        if (f.type === "leave" && f.nick === "slow") leave = f;
      }
    }
    expect(leave?.reason).toBe("slow_consumer");
    await server.waitForLog('"reason":"slow_consumer"');
    expect(server.rssBytes() - rssBefore).toBeLessThan(100 * 1024 * 1024);
    const tail = await publisher.request({ type: "msg", room: "lobby", text: "after" });
    expect(tail.type).toBe("msg");
    expect(await reader.waitFor((f) => f.type === "msg" && f.text === "after", 10_000)).toBeTruthy();
    expect(delivered).toBeGreaterThan(0);
    for (const c of [publisher, reader, slow]) c.destroy();
  }, 30_000);

  test("SIGTERM while messages flow: every client gets bye shutdown and the server exits 0", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0"]);
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => TestClient.register(server.port, `c${i}`)));
    const flowing = setInterval(() => {
      for (const c of clients) if (!c.ended) c.send({ type: "msg", room: "lobby", text: "tick" });
    }, 2);
    await sleep(100);
    server.signal("SIGTERM");
    try {
      for (const c of clients) expect(await c.waitFor((f) => f.type === "bye", 5000)).toEqual({ type: "bye", reason: "shutdown" });
      for (const c of clients) await c.waitClosed(5000);
    } finally {
      clearInterval(flowing);
    }
    expect(await server.exited).toBe(0);
    await server.waitForLog("told 10 clients");
  });
});
