/**
 * Bad input: each case gets its error code and the connection survives,
 * and nothing a peer sends grows the server's memory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("bad input (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "0"]);
  });
  afterAll(() => server.stop());

  /** After a bad line, the same connection still answers. */
  async function stillAnswers(c: TestClient) {
    expect(await c.request({ type: "ping", t: "alive" })).toMatchObject({ type: "pong", t: "alive" });
  }

  test("a line of max_frame+1 bytes gets frame_too_large and the connection stays", async () => {
    const c = await TestClient.register(server.port, "big1");
    // A ping padded with an unknown field to an exact size: its pong proves the line was taken.
    const frameOf = (bytes: number) => {
      const shell = '{"type":"ping","t":"fits","pad":""}';
      return shell.replace('""', `"${"x".repeat(bytes - shell.length)}"`);
    };
    expect(frameOf(16385).length).toBe(16385);
    c.send(frameOf(16385) + "\n");
    expect(await c.waitFor((f) => f.type === "error")).toMatchObject({ code: "frame_too_large" });
    c.send(frameOf(16384) + "\r\n");
    expect(await c.next()).toEqual({ type: "pong", t: "fits" });
    await stillAnswers(c);
    c.destroy();
  });

  test("frames two clients send in pieces, interleaved, each arrive whole on their own connection", async () => {
    // Idle connections share one line splitter until a chunk leaves part of a line behind (issue 15).
    const a = await TestClient.register(server.port, "pieces1");
    const b = await TestClient.register(server.port, "pieces2");
    const pause = () => new Promise((resolve) => setTimeout(resolve, 30));
    a.send('{"type":"ping",');
    await pause();
    b.send('{"type":"ping","t":"fr');
    await pause();
    a.send('"t":"from a"}\n{"type":"pi');
    await pause();
    b.send('om b"}\n');
    await pause();
    a.send('ng","t":"again a"}\n');
    const pong = (f: Frame) => f.type === "pong";
    expect(await a.waitFor(pong)).toEqual({ type: "pong", t: "from a" });
    expect(await a.waitFor(pong)).toEqual({ type: "pong", t: "again a" });
    expect(await b.waitFor(pong)).toEqual({ type: "pong", t: "from b" });
    a.destroy();
    b.destroy();
  });

  test("1 MiB without a newline: frame_too_large at once, server memory stays flat", async () => {
    const c = await TestClient.register(server.port, "big2");
    const chunk = new Uint8Array(1024 * 1024).fill(0x78);
    c.sendBytes(chunk);
    expect(await c.waitFor((f) => f.type === "error")).toMatchObject({ code: "frame_too_large" });
    // Keep the line going: 128 MiB to warm up (garbage collectors settle into a plateau), then
    // 384 MiB more. A server that kept the line would grow by hundreds of MiB; garbage-collector
    // slack (a heap that grows once more under the burst, seen under Deno) stays far below 64 MiB.
    const pump = async (mib: number) => {
      for (let i = 0; i < mib; i++) c.sendBytes(chunk);
      await stillAnswersWhileLineOpen(c);
    };
    await pump(128);
    const rssWarm = server.rssBytes();
    await pump(384);
    expect(server.rssBytes() - rssWarm).toBeLessThan(64 * 1024 * 1024);
    c.send("\n");
    await stillAnswers(c);
    expect(c.lines.filter((l) => l.includes("frame_too_large"))).toEqual([]);
    c.destroy();
  }, 20_000); // 512 MiB through loopback: 1.5-5 s on an idle or a busy 2-core machine.

  /** Waits until the server has read everything sent so far (a second connection's ping proves it is responsive). */
  async function stillAnswersWhileLineOpen(c: TestClient) {
    while (c.socket.writableLength > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const probe = await TestClient.connect(server.port);
    expect(await probe.request({ type: "ping", t: 1 })).toMatchObject({ type: "pong" });
    probe.destroy();
  }

  test("invalid UTF-8 is bad_frame; invalid JSON is bad_frame; both keep the connection", async () => {
    const c = await TestClient.register(server.port, "utf");
    c.sendBytes(Uint8Array.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]));
    expect(await c.next()).toMatchObject({ type: "error", code: "bad_frame" });
    c.send("{not json\n");
    expect(await c.next()).toMatchObject({ type: "error", code: "bad_frame" });
    await stillAnswers(c);
    c.destroy();
  });

  test("schema-invalid frames get invalid naming the field", async () => {
    const c = await TestClient.register(server.port, "schema");
    const cases: [object, string][] = [
      [{ type: "join", room: "Bad Room" }, "room"],
      [{ type: "msg", room: "lobby" }, "text"],
      [{ type: "msg", room: "lobby", text: 5 }, "text"],
      [{ type: "status", status: "busy" }, "status"],
      [{ type: "join", room: "a", since: "x" }, "since"],
      [{ type: "nope" }, "type"],
      [{ room: "lobby" }, "type"],
    ];
    for (const [frame, field] of cases) {
      expect(await c.request(frame)).toMatchObject({ type: "error", code: "invalid", field });
    }
    c.send("[1,2,3]\n");
    expect(await c.next()).toMatchObject({ code: "invalid" });
    await stillAnswers(c);
    c.destroy();
  });

  test("__proto__ keys and deeply nested JSON are handled without harm", async () => {
    const c = await TestClient.register(server.port, "proto");
    c.send('{"type":"msg","room":"lobby","text":"ok","__proto__":{"admin":true},"id":"p1"}\n');
    const echo = await c.waitFor((f) => f.id === "p1");
    expect(echo).toMatchObject({ type: "msg", text: "ok" });
    expect(echo).not.toHaveProperty("admin");
    c.send('{"__proto__":{"type":"quit"}}\n');
    expect(await c.next()).toMatchObject({ code: "invalid", field: "type" });
    c.send(`{"type":"ping","t":${"[".repeat(8000)}${"]".repeat(8000)}}\n`);
    expect((await c.next()).code).toMatch(/^(invalid|bad_frame)$/);
    await stillAnswers(c);
    c.destroy();
  });

  test("nick collisions (Bob/bob/ｂｏｂ) and bad nicks (U+202E, U+200B, controls, too long)", async () => {
    const bob = await TestClient.register(server.port, "Bob");
    for (const nick of ["bob", "ｂｏｂ", "BOB"]) {
      const c = await TestClient.connect(server.port);
      expect(await c.request({ type: "hello", nick })).toMatchObject({ code: "nick_taken" });
      c.destroy();
    }
    const c = await TestClient.connect(server.port);
    for (const nick of ["rtl\u202Eevil", "zero\u200Bwidth", "ctl\u0007", "x".repeat(33), ""]) {
      expect(await c.request({ type: "hello", nick })).toMatchObject({ code: "nick_invalid" });
    }
    expect(await c.request({ type: "hello", nick: "fine" })).toMatchObject({ type: "welcome" });
    bob.destroy();
    c.destroy();
  });
});
