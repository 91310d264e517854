/**
 * WebSocket clients of the chat server, on every runtime, with a raw client
 * (tests/support/raw_ws.ts) so the wire is exactly what the test says: the
 * same sessions, rooms and limits as TCP, one JSON frame per text message,
 * fragments and control frames, binary and oversize messages, Origin, slow
 * consumers and abrupt closes.
 */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { HandshakeRefused, OP, RawWs } from "../support/raw_ws.ts";

/** Starting a server from source takes seconds under deno and node on a busy machine. */
const TEST_TIMEOUT_MS = 20_000;

/** The port of the server's `web http://host:port/` line. */
function webPort(server: ChatServerProcess): number {
  const line = server.lines().find((l) => l.startsWith("web "));
  if (!line) throw new Error(`no web line in:\n${server.stdout()}`);
  return Number(new URL(line.slice(4)).port);
}

async function start(runtime: (typeof SERVER_RUNTIMES)[number], flags: string[] = []): Promise<ChatServerProcess & { web: number }> {
  // Tests leave their WebSocket users connected; a short shutdown grace keeps each server's stop quick.
  const server = await startChatServer(runtime, ["--http-listen", "127.0.0.1:0", "--shutdown-grace", "300ms", ...flags]);
  return Object.assign(server, { web: webPort(server) });
}

/** A WebSocket client that has registered as `nick` and is in the lobby. */
async function wsUser(port: number, nick: string): Promise<RawWs> {
  const ws = await RawWs.connect(port);
  ws.send({ type: "hello", nick });
  await ws.waitJson((f) => f.type === "welcome");
  await ws.waitJson((f) => f.type === "join" && f.nick === nick && f.room === "lobby");
  return ws;
}

for (const runtime of SERVER_RUNTIMES) {
  describe(`WebSocket on ${runtime}`, () => {
    test("a WebSocket user and a TCP user chat in one room, one JSON frame per text message", async () => {
      await using server = await start(runtime);
      const ws = await wsUser(server.web, "webby");
      const tcp = await TestClient.register(server.port, "tess");
      ws.send({ type: "msg", room: "lobby", text: "hi from the web", id: "m1" });
      const ack = await ws.waitJson((f) => f.type === "msg" && f.id === "m1");
      expect(ack).toMatchObject({ from: "webby", text: "hi from the web", room: "lobby" });
      expect((await tcp.waitFor((f) => f.type === "msg")).text).toBe("hi from the web");
      tcp.send({ type: "msg", room: "lobby", text: "hi from tcp" });
      await ws.waitJson((f) => f.type === "msg" && f.text === "hi from tcp");
      // Every text message is exactly one frame, without a newline.
      for (const frame of ws.frames.filter((f) => f.opcode === OP.text)) {
        expect(frame.payload.toString().endsWith("\n")).toBe(false);
        expect(frame.payload.toString().startsWith('{"type":')).toBe(true);
      }
      tcp.send({ type: "dm", to: "webby", text: "psst" });
      await ws.waitJson((f) => f.type === "dm" && f.from === "tess" && f.text === "psst");
    }, TEST_TIMEOUT_MS);

    test("a fragmented hello with a ping between its fragments registers, and the ping is answered", async () => {
      await using server = await start(runtime);
      const ws = await RawWs.connect(server.web);
      ws.sendFrame(OP.text, '{"type":"hel', false);
      ws.sendFrame(OP.ping, "ctl");
      ws.sendFrame(OP.continuation, 'lo","nick":"frag', false);
      ws.sendFrame(OP.continuation, 'gy"}', true);
      expect((await ws.waitFrame((f) => f.opcode === OP.pong)).payload.toString()).toBe("ctl");
      expect((await ws.waitJson((f) => f.type === "welcome")).nick).toBe("fraggy");
    }, TEST_TIMEOUT_MS);

    test("a binary message gets error bad_frame and the connection stays open", async () => {
      await using server = await start(runtime);
      const ws = await wsUser(server.web, "binny");
      ws.sendFrame(OP.binary, Buffer.from('{"type":"ping"}'));
      expect((await ws.waitJson((f) => f.type === "error")).code).toBe("bad_frame");
      ws.send({ type: "ping", t: 7 });
      expect((await ws.waitJson((f) => f.type === "pong")).t).toBe(7);
    }, TEST_TIMEOUT_MS);

    test("a message over max_frame closes with 1009, logged as frame_too_large", async () => {
      await using server = await start(runtime, ["--max-frame", "1024"]);
      const ws = await wsUser(server.web, "biggy");
      ws.sendFrame(OP.text, JSON.stringify({ type: "msg", room: "lobby", text: "x".repeat(2000) }));
      expect(await ws.closeCode()).toBe(1009);
      ws.sendFrame(OP.close, Buffer.from([0x03, 0xf1]));
      await server.waitForLog('"reason":"frame_too_large"');
    }, TEST_TIMEOUT_MS);

    test("an upgrade from a page of another origin is refused with 403; the server's own origin is let in", async () => {
      await using server = await start(runtime);
      const refused = await RawWs.connect(server.web, { origin: "https://evil.example" }).catch((e) => e);
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status).toBe(403);
      const own = await RawWs.connect(server.web, { origin: `http://127.0.0.1:${server.web}` });
      own.socket.destroy();
    }, TEST_TIMEOUT_MS);

    test("a WebSocket client that stops reading is closed as slow_consumer while the others keep receiving", async () => {
      await using server = await start(runtime, ["--max-pending", "1MiB", "--rate-per-s", "100000", "--burst", "100000"]);
      const stalled = await wsUser(server.web, "stally");
      const watcher = await wsUser(server.web, "watchy");
      const sender = await TestClient.register(server.port, "sendy");
      stalled.socket.pause();
      // 12 MB, more than the kernel's buffers on both sides hold for the stalled reader, in waves
      // the watcher keeps up with (it is a test client, parsing in this busy process).
      const text = "z".repeat(3000);
      for (let wave = 0; wave < 20; wave++) {
        for (let i = wave * 200; i < (wave + 1) * 200; i++) sender.send({ type: "msg", room: "lobby", text: `${i} ${text}` });
        const last = `"text":"${wave * 200 + 199} `;
        await watcher.waitFrame((f) => f.payload.includes(last), 10_000);
      }
      const leave = await watcher.waitJson((f) => f.type === "leave" && f.nick === "stally", 10_000);
      expect(leave.reason).toBe("slow_consumer");
      expect(watcher.json.filter((f) => f.type === "msg" && f.from === "sendy")).toHaveLength(4000);
      await server.waitForLog('"reason":"slow_consumer"', 5000);
    }, 30_000);

    test("an abrupt TCP close of a WebSocket user is seen by the others as a disconnect", async () => {
      await using server = await start(runtime);
      const gone = await wsUser(server.web, "goner");
      const tcp = await TestClient.register(server.port, "stayer");
      gone.socket.resetAndDestroy();
      const leave = await tcp.waitFor((f) => f.type === "leave" && f.nick === "goner");
      expect(leave.reason).toBe("disconnect");
    }, TEST_TIMEOUT_MS);

    test("heartbeats and the register timeout apply to WebSocket connections", async () => {
      await using server = await start(runtime, ["--heartbeat-interval", "200ms", "--register-timeout", "300ms"]);
      const ws = await wsUser(server.web, "beaty");
      const ping = await ws.waitJson((f) => f.type === "ping", 2000);
      expect(typeof ping.t).toBe("number");
      const silent = await RawWs.connect(server.web);
      await silent.waitJson((f) => f.type === "bye" && f.reason === "timeout", 3000);
      await silent.closeCode(3000);
    }, TEST_TIMEOUT_MS);

    test("SIGTERM says bye shutdown to WebSocket users, closes with 1001 and exits 0", async () => {
      await using server = await start(runtime);
      const ws = await wsUser(server.web, "leaver");
      server.signal("SIGTERM");
      await ws.waitJson((f) => f.type === "bye" && f.reason === "shutdown", 5000);
      expect(await ws.closeCode(5000)).toBe(1001);
      ws.sendFrame(OP.close, Buffer.from([0x03, 0xe9]));
      expect(await server.exited).toBe(0);
    }, TEST_TIMEOUT_MS);

    test("SIGTERM with a WebSocket user that answers nothing still exits 0, soon after shutdown_grace", async () => {
      await using server = await start(runtime, ["--shutdown-grace", "500ms"]);
      const ws = await wsUser(server.web, "deaf");
      ws.socket.pause();
      const started = Date.now();
      server.signal("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(4000);
      ws.socket.destroy();
    }, TEST_TIMEOUT_MS);

    test("the page and its assets are served with a strict content security policy", async () => {
      await using server = await start(runtime);
      const page = await fetch(`http://127.0.0.1:${server.web}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(await page.text()).toContain('<script type="module" src="/app.js">');
      const script = await fetch(`http://127.0.0.1:${server.web}/app.js`);
      expect(script.headers.get("content-type")).toContain("javascript");
      expect((await script.text()).length).toBeGreaterThan(1000);
      expect((await fetch(`http://127.0.0.1:${server.web}/nope`)).status).toBe(404);
    }, TEST_TIMEOUT_MS);
  });
}
