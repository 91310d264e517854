/**
 * Fault injection against the real server: a signal in the middle of a
 * broadcast storm, a killed and restarted server, peers that vanish mid-frame
 * or reset while the server writes to them, and a log destination that
 * fails. In every case the server keeps serving (or exits as documented) and
 * loses nothing it acknowledged.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient } from "../../lib/client/chat_client.ts";
import { SETTING_SPECS } from "../../lib/config/settings.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import { disconnectRecords } from "../../scripts/soak.ts";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { type ServerProcess, spawnServer } from "../support/runtimes.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The server's `disconnect` log lines (JSON logs on stderr): one per closed connection. */
const disconnects = (server: ChatServerProcess) => disconnectRecords(server.stderr());

/** Frames a test client received so far, without consuming them. */
const framesOf = (c: TestClient): Frame[] => c.lines.map((l) => JSON.parse(l));

/** A fresh client must register and get a pong, each within `timeoutMs`: the server still serves. */
async function expectServing(server: ServerProcess, nick: string, timeoutMs = 5000): Promise<void> {
  const probe = await TestClient.connect(server.port);
  try {
    expect(await probe.request({ type: "hello", nick }, timeoutMs)).toMatchObject({ type: "welcome" });
    expect(await probe.request({ type: "ping", t: nick }, timeoutMs)).toMatchObject({ type: "pong", t: nick });
  } finally {
    probe.destroy();
  }
}


describe.each(SERVER_RUNTIMES)("faults (%s)", (runtime) => {
  test("SIGTERM in a broadcast storm: every member gets every message acked before the signal, then bye shutdown", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--default-room", ""]);
    const members = await Promise.all(
      Array.from({ length: 20 }, (_, i) => TestClient.register(server.port, `m${i}`, { defaultRoom: null })),
    );
    for (const m of members) await m.request({ type: "join", room: "storm" });
    for (const m of members) m.clear();
    const publishers = members.slice(0, 5);
    let sent = 0;
    const storm = setInterval(() => {
      for (const [p, publisher] of publishers.entries()) {
        if (!publisher.ended) publisher.send({ type: "msg", room: "storm", text: `p${p}-${sent++}`, id: `s${sent}` });
      }
    }, 1);
    await until("a few hundred messages", () => framesOf(members[19]).length > 300);
    // What each publisher had seen acknowledged when the signal went out.
    const acked = publishers.flatMap((p) => framesOf(p).filter((f) => f.type === "msg" && f.id !== undefined).map((f) => f.seq));
    server.signal("SIGTERM");
    try {
      for (const m of members) await m.waitClosed(8000);
    } finally {
      clearInterval(storm);
    }
    expect(await server.exited).toBe(0);
    expect(acked.length).toBeGreaterThan(50);
    for (const m of members) {
      const frames = framesOf(m);
      expect(frames.at(-1)).toEqual({ type: "bye", reason: "shutdown" });
      const seqs = frames.filter((f) => f.type === "msg").map((f) => f.seq);
      // In order, no gaps, nothing twice; and every acked message is there.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(seqs.length).toBeGreaterThanOrEqual(Math.max(...acked));
    }
  }, 30_000);

  test("peers that send half a frame and vanish (FIN, RST, silence then close) are cleaned up, nothing half-sent is delivered", async () => {
    await using server = await startChatServer(runtime, []);
    const watcher = await TestClient.register(server.port, "watcher");
    const half = '{"type":"msg","room":"lobby","text":"never sent';
    const vanish: [string, (c: TestClient) => void][] = [
      ["fin", (c) => c.end()],
      ["rst", (c) => c.reset()],
      ["gone", (c) => c.destroy()],
    ];
    for (const [nick, how] of vanish) {
      const c = await TestClient.register(server.port, nick);
      c.send(half);
      await sleep(20);
      how(c);
    }
    // Unregistered, and a text user: a half hello, half a line.
    const unregistered = await TestClient.connect(server.port);
    unregistered.send('{"type":"hello","nick":"ghost');
    const person = await TestClient.connect(server.port);
    person.send("tex\r\n");
    await person.waitForLine("Now in #lobby");
    person.send("a line without its end");
    await sleep(20);
    unregistered.reset();
    person.end();
    const nicks = ["fin", "rst", "gone", "tex"];
    await until("every disconnect logged", () => disconnects(server).length === 5);
    expect(disconnects(server).map((d) => d.nick).sort()).toEqual(["-", ...nicks].sort());
    const seen = framesOf(watcher);
    expect(seen.filter((f) => f.type === "msg")).toEqual([]);
    expect(seen.filter((f) => f.type === "leave").map((f) => [f.nick, f.reason]).sort()).toEqual(
      nicks.map((n) => [n, "disconnect"]).sort(),
    );
    expect((await watcher.request({ type: "who", room: "lobby" })).users.map((u: Frame) => u.nick)).toEqual(["watcher"]);
    // Every nick is free again.
    for (const nick of nicks) (await TestClient.register(server.port, nick)).destroy();
    watcher.destroy();
  });

  test("readers that reset while the server writes them a large backlog: the others get everything, the server goes on", async () => {
    await using server = await startChatServer(runtime, ["--rate-per-s", "0", "--max-pending", "8MiB"]);
    const publisher = await TestClient.register(server.port, "pub");
    const reader = await TestClient.register(server.port, "reader");
    const resetters = await Promise.all(Array.from({ length: 6 }, (_, i) => TestClient.register(server.port, `rst${i}`)));
    for (const r of resetters) r.socket.pause();
    const rssBefore = server.rssBytes();
    const text = "z".repeat(3900);
    const total = 400; // about 1.6 MB toward each paused reader: far past what the socket buffers take
    let got = 0;
    for (let sent = 0; sent < total; ) {
      for (let i = 0; i < 50; i++, sent++) publisher.send({ type: "msg", room: "lobby", text });
      while (got < sent) if ((await reader.next(10_000)).type === "msg") got++;
    }
    // Writes to the paused readers are in flight now; reset them mid-write, a few at a time.
    for (const r of resetters) {
      r.reset();
      await sleep(5);
    }
    const leaves = new Set<string>();
    await reader.waitFor((f) => f.type === "leave" && leaves.add(f.nick) && leaves.size === resetters.length, 10_000);
    expect(await publisher.request({ type: "msg", room: "lobby", text: "after" })).toMatchObject({ type: "msg" });
    expect(await reader.waitFor((f) => f.type === "msg" && f.text === "after")).toMatchObject({ from: "pub" });
    await until("every reset logged", () => disconnects(server).length === resetters.length);
    expect(server.rssBytes() - rssBefore).toBeLessThan(150 * 1024 * 1024);
    await expectServing(server, "probe");
    publisher.destroy();
    reader.destroy();
  }, 30_000);

  test("the server's stderr is closed: it keeps serving", async () => {
    await using server = await startChatServer(runtime, []);
    server.proc.stderr!.destroy();
    // Each of these logs a disconnect line into the closed pipe.
    for (let i = 0; i < 20; i++) (await TestClient.register(server.port, `logger${i}`)).destroy();
    await sleep(200);
    expect(server.alive()).toBe(true);
    await expectServing(server, "probe");
  });

  test("nobody reads the server's stderr pipe: it keeps serving", async () => {
    await using server = await startChatServer(runtime, ["--log-level", "debug"]);
    server.proc.stderr!.pause();
    try {
      // Far more log lines (connect and disconnect, ~500 bytes each) than a pipe buffer (64 KiB) holds.
      for (let round = 0; round < 6; round++) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => TestClient.connect(server.port)));
        batch.forEach((c, i) => c.send({ type: "hello", nick: `u${round}x${i}` }));
        await sleep(20);
        for (const c of batch) c.destroy();
      }
      await sleep(200);
      await expectServing(server, "probe", 2000);
    } finally {
      server.proc.stderr!.resume(); // let a blocked server go, so it can be stopped
    }
  }, 30_000);

  test.skipIf(!("log_file" in SETTING_SPECS))("a log file on a full disk (/dev/full): the server keeps serving", async () => {
    const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--log-format", "json", "--log-file", "/dev/full"];
    // Deno asks for all permissions to open a device file.
    await using server = await spawnServer(runtime, "main.ts", args, { denoFlags: ["--allow-all"] });
    for (let i = 0; i < 20; i++) (await TestClient.register(server.port, `full${i}`)).destroy();
    await expectServing(server, "probe");
    expect(server.alive()).toBe(true);
  });
});

describe("faults: the server is killed", () => {
  const libraryClient = (port: number, nick: string, initialBackoffMs: number) =>
    new ChatClient({
      runtime: getRuntime(),
      host: "127.0.0.1",
      port,
      nick,
      rooms: ["ops"],
      backoff: { initialMs: initialBackoffMs, maxMs: Math.max(300, initialBackoffMs), factor: 2 },
    });

  test("SIGKILL, then a restart on the same port: every client-library client reconnects, rejoins and chats", async () => {
    let server = await startChatServer("bun", ["--rate-per-s", "0"]);
    const port = server.port;
    const clients = Array.from({ length: 10 }, (_, i) => libraryClient(port, `k${i}`, 50));
    await Promise.all(clients.map((c) => c.connect()));
    await clients[0].send("ops", "before the crash");
    const rejoined = new Set<ChatClient>();
    for (const c of clients) c.on("resumed", (r) => r.room === "ops" && rejoined.add(c));
    server.signal("SIGKILL");
    expect(await server.exited).toBe(128 + 9);
    await until("every client reconnecting", () => clients.every((c) => c.state === "reconnecting"));
    // The same port again: the clients only know that one.
    server = await startChatServer("bun", ["--rate-per-s", "0", "--port", String(port)]);
    try {
      await until("every client online again, back in its room", () => rejoined.size === clients.length, 10_000);
      expect(clients.every((c) => c.state === "online")).toBe(true);
      const got = clients.map(() => [] as string[]);
      clients.forEach((c, i) => c.on("msg", (m) => m.room === "ops" && got[i].push(m.text)));
      await clients[3].send("ops", "after the restart");
      await until("everyone to get it", () => got.every((texts) => texts.includes("after the restart")));
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await server.stop();
    }
  }, 30_000);

  // With a data directory the room keeps its seq and epoch across the restart, so the late
  // client's `since` (its old seq) is exact: it gets what the room got while it was away.
  test("after a restart, a client that rejoins late still gets what its rooms got meanwhile", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tcpchat-faults-"));
    let server = await startChatServer("bun", ["--rate-per-s", "0", "--data-dir", dataDir]);
    const port = server.port;
    const late = libraryClient(port, "late", 1500);
    await late.connect();
    const writer = await TestClient.register(server.port, "writer");
    await writer.request({ type: "join", room: "ops" });
    for (let i = 1; i <= 3; i++) await writer.request({ type: "msg", room: "ops", text: `old ${i}` });
    await until("the old messages", () => late.rooms.get("ops") === 3);
    const got: string[] = [];
    late.on("msg", (m) => got.push(m.text));
    server.signal("SIGKILL");
    await server.exited;
    server = await startChatServer("bun", ["--rate-per-s", "0", "--port", String(port), "--data-dir", dataDir]);
    try {
      // Before `late` is back (its first retry waits 1.5 s), the new ops room gets two messages.
      const writer2 = await TestClient.register(server.port, "writer2");
      await writer2.request({ type: "join", room: "ops" });
      for (let i = 1; i <= 2; i++) await writer2.request({ type: "msg", room: "ops", text: `new ${i}` });
      expect(late.state).toBe("reconnecting");
      await until("late back online", () => late.state === "online", 10_000);
      await sleep(300);
      expect(got).toEqual(["new 1", "new 2"]);
      await late.close();
      writer2.destroy();
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
