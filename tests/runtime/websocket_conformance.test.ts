/**
 * The WebSocket half of the runtime conformance suite: one set of cases run
 * against `tests/fixtures/ws_fixture.ts` under bun, deno and node, so the
 * three adapters (`_ws_bun.ts`, `_ws_deno.ts`, `_ws_node.ts`) give the same
 * peer: text and binary messages, fragments, control frames, close codes,
 * 1009 for oversize messages, refusals, buffered amount, abrupt closes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { HandshakeRefused, OP, RawWs } from "../support/raw_ws.ts";
import { RUNTIMES, type ServerProcess, spawnServer } from "../support/runtimes.ts";

const FIXTURE = "tests/fixtures/ws_fixture.ts";

for (const runtime of RUNTIMES) {
  describe(`WebSocket adapter on ${runtime}`, () => {
    let fixture: ServerProcess;
    let started: Promise<ServerProcess> | undefined;
    const ready = () => (started ??= spawnServer(runtime, FIXTURE, [], { denoFlags: ["--allow-net=127.0.0.1"] }).then((f) => (fixture = f)));
    afterAll(async () => {
      if (!fixture) return;
      const crashed = !fixture.alive();
      const stderr = fixture.stderr();
      await fixture.stop();
      // A fixture that died or complained means an adapter let an error escape.
      expect({ crashed, stderr }).toEqual({ crashed: false, stderr: "" });
    });

    async function open(): Promise<RawWs> {
      await ready();
      return RawWs.connect(fixture.port);
    }

    test("a text message arrives whole and the reply comes back as text", async () => {
      const ws = await open();
      ws.sendFrame(OP.text, "héllo");
      const reply = await ws.waitFrame((f) => f.opcode === OP.text);
      expect(reply.payload.toString("utf8")).toBe("text:héllo");
      const port = (ws.socket.address() as { port: number }).port;
      await fixture.waitForLine(`open ${port} 127.0.0.1`);
      ws.socket.destroy();
    });

    test("a fragmented message is delivered as one message, with a ping between its fragments answered", async () => {
      const ws = await open();
      ws.sendFrame(OP.text, "one ", false);
      ws.sendFrame(OP.ping, "are you there");
      ws.sendFrame(OP.continuation, "two ", false);
      ws.sendFrame(OP.continuation, "three", true);
      const pong = await ws.waitFrame((f) => f.opcode === OP.pong);
      expect(pong.payload.toString()).toBe("are you there");
      const reply = await ws.waitFrame((f) => f.opcode === OP.text);
      expect(reply.payload.toString()).toBe("text:one two three");
      ws.socket.destroy();
    });

    test("a binary message reaches the peer flagged as binary", async () => {
      const ws = await open();
      ws.sendFrame(OP.binary, Buffer.from([1, 2, 3, 0xff]));
      const reply = await ws.waitFrame((f) => f.opcode === OP.text);
      expect(reply.payload.toString()).toBe("binary:4");
      ws.socket.destroy();
    });

    test("a message over maxMessageBytes closes with 1009, and closed reports 1009", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      ws.sendFrame(OP.text, "y".repeat(1001));
      expect(await ws.closeCode()).toBe(1009);
      // Completing the closing handshake, as a client must; then the server closes TCP.
      ws.sendFrame(OP.close, Buffer.from([0x03, 0xf1]));
      await ws.closed;
      await fixture.waitForLine(new RegExp(`^closed ${port} 1009 `));
    });

    test("terminate settles closed at once, without waiting for a peer that does not answer", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      ws.sendFrame(OP.text, "terminate");
      await fixture.waitForLine(`closed ${port} 1006 true`);
      ws.socket.destroy();
    });

    test("a text message that is not UTF-8 closes the socket (1007) and never reaches the peer", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      ws.sendFrame(OP.text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      // Bun and ws send 1007; Deno drops the TCP connection without a close frame.
      const line = await fixture.waitForLine(new RegExp(`^closed ${port} `));
      expect(["1007", "1006"]).toContain(line.split(" ")[2]);
      const close = ws.frames.find((f) => f.opcode === OP.close);
      if (close) expect(close.payload.readUInt16BE(0)).toBe(1007);
      expect(ws.frames.filter((f) => f.opcode === OP.text)).toEqual([]);
      ws.socket.destroy();
    });

    test("close(code) sends that status and closed reports it as local", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      ws.sendFrame(OP.text, "close");
      expect(await ws.closeCode()).toBe(4000);
      ws.sendFrame(OP.close, Buffer.from([0x0f, 0xa0]));
      await fixture.waitForLine(new RegExp(`^closed ${port} \\d+ true$`));
      ws.socket.destroy();
    });

    test("a peer's close frame settles closed with its status", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      await fixture.waitForLine(`open ${port}`);
      ws.sendFrame(OP.close, Buffer.from([0x03, 0xe8]));
      await fixture.waitForLine(`closed ${port} 1000 false`);
      await ws.closed;
    });

    test("an abrupt TCP close settles closed with 1006", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      await fixture.waitForLine(`open ${port}`);
      ws.socket.resetAndDestroy();
      await fixture.waitForLine(`closed ${port} 1006 false`);
    });

    test("bufferedAmount counts what a peer that does not read has not taken", async () => {
      const ws = await open();
      const port = (ws.socket.address() as { port: number }).port;
      ws.socket.pause();
      ws.sendFrame(OP.text, "flood 200");
      const line = await fixture.waitForLine(`buffered ${port} `);
      // 12.5 MiB sent at once cannot all fit in the kernel's buffers.
      expect(Number(line.split(" ")[2])).toBeGreaterThan(1024 * 1024);
      ws.socket.destroy();
    });

    test("an upgrade the check refuses gets its response (403) and no socket", async () => {
      await ready();
      const refused = await RawWs.connect(fixture.port, { origin: "http://evil.example" }).catch((e) => e);
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status).toBe(403);
    });

    test("other paths are served by the HTTP handler, and a plain GET on the WebSocket path gets 426", async () => {
      await ready();
      expect(await (await fetch(`http://127.0.0.1:${fixture.port}/`)).text()).toBe("page");
      expect((await fetch(`http://127.0.0.1:${fixture.port}/ws`)).status).toBe(426);
    });
  });
}
