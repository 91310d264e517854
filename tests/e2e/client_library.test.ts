/**
 * The client library against a real server (under Bun): requests and events,
 * id matching, and reconnection that misses nothing, through a proxy that
 * the tests cut, and across a server restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { ChatClient, ChatError } from "../../lib/client/chat_client.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import type { MsgFrame } from "../../lib/protocol/server_frames.ts";
import { type ChatServerProcess, startChatServer } from "../support/chat_server.ts";
import { startTcpProxy } from "../support/tcp_proxy.ts";

const runtime = getRuntime();
const fastBackoff = { initialMs: 50, maxMs: 400, factor: 2 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function client(port: number, nick: string, extra: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  return new ChatClient({ runtime, host: "127.0.0.1", port, nick, backoff: fastBackoff, ...extra });
}

describe("client library", () => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer("bun", ["--rate-per-s", "0", "--heartbeat-interval", "300ms", "--heartbeat-max-missed", "2"]);
  });
  afterAll(() => server.stop());

  test("registers, and every request gets its own answer", async () => {
    const ada = client(server.port, "ada", { rooms: ["dev"] });
    const bob = client(server.port, "bob");
    const welcome = await ada.connect();
    expect(welcome).toMatchObject({ type: "welcome", nick: "ada", heartbeat: { interval_ms: 300, timeout_ms: 600 } });
    await bob.connect();
    expect([...ada.rooms.keys()].sort()).toEqual(["dev", "lobby"]);

    const seen: MsgFrame[] = [];
    bob.on("msg", (m) => seen.push(m));
    const [ack1, ack2] = await Promise.all([ada.send("lobby", "one"), ada.send("lobby", "two")]);
    expect([ack1.text, ack2.text]).toEqual(["one", "two"]);
    expect(ack2.seq).toBe(ack1.seq + 1);
    await until("bob to see both", () => seen.length === 2);

    const dms: string[] = [];
    bob.on("dm", (d) => dms.push(`${d.from}:${d.text}`));
    expect(await ada.dm("bob", "psst")).toMatchObject({ to: "bob", text: "psst" });
    await until("dm", () => dms.length === 1);
    expect(dms).toEqual(["ada:psst"]);

    expect((await ada.who("lobby")).users.map((u) => u.nick).sort()).toEqual(["ada", "bob"]);
    expect((await ada.listRooms()).rooms.map((r) => r.name).sort()).toEqual(["dev", "lobby"]);
    const presence: string[] = [];
    bob.on("presence", (p) => presence.push(`${p.nick}:${p.status}:${p.note}`));
    await ada.setStatus("away", "tea");
    await until("presence", () => presence.length === 1);
    expect(presence).toEqual(["ada:away:tea"]);

    const error = await ada.dm("nobody", "x").catch((e) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error.code).toBe("no_such_user");
    expect(await ada.join("Bad Room").catch((e) => e.field)).toBe("room");

    await ada.leave("dev");
    expect([...ada.rooms.keys()]).toEqual(["lobby"]);
    await ada.close();
    await bob.close();
    expect(ada.state).toBe("closed");
  });

  test("the first connect fails fast: unreachable server, nick taken", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    expect(await client(closedPort, "x").connect().catch((e) => e.message)).toMatch(/refused/i);
    const holder = client(server.port, "holder");
    await holder.connect();
    const error = await client(server.port, "HOLDER").connect().catch((e) => e);
    expect(error.code).toBe("nick_taken");
    await holder.close();
  });

  test("answers server pings and keeps an idle connection alive past the server timeout", async () => {
    const idle = client(server.port, "idler");
    const states: string[] = [];
    idle.on("state", (s) => states.push(s.state));
    await idle.connect();
    await sleep(1500); // 2.5x the server's 600 ms timeout
    expect(idle.state).toBe("online");
    expect(states).toEqual(["connecting", "online"]);
    await idle.close();
  });

  test("after a cut link it reconnects, rejoins with since and misses nothing, in order", async () => {
    const proxy = await startTcpProxy(server.port);
    const reader = client(proxy.port, "reader", { rooms: ["news"] });
    const writer = client(server.port, "writer", { rooms: ["news"] });
    await reader.connect();
    await writer.connect();
    const got: number[] = [];
    reader.on("msg", (m) => m.room === "news" && got.push(m.seq));
    const resumed: { caughtUp: number; lost: number }[] = [];
    reader.on("resumed", (r) => r.room === "news" && resumed.push(r));

    let sent = 0;
    const sending = (async () => {
      for (; sent < 60; sent++) {
        await writer.send("news", `n${sent}`);
        await sleep(10);
      }
    })();
    await sleep(150);
    proxy.cutAll();
    await sending;
    await until("all 60 messages", () => got.length === 60, 8000);
    expect(got).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(proxy.connections()).toBe(2);
    expect(resumed.length).toBe(1);
    expect(resumed[0].lost).toBe(0);
    await reader.close();
    await writer.close();
    proxy.close();
  });

  test("a nick still held by the half-dead old session is reclaimed once the server times it out", async () => {
    const proxy = await startTcpProxy(server.port);
    const ghost = client(proxy.port, "ghost");
    await ghost.connect();
    const welcomes: boolean[] = [];
    ghost.on("welcome", (w) => welcomes.push(w.resumed));
    const renamed: string[] = [];
    ghost.on("renamed", (r) => renamed.push(r.new));
    proxy.cutAll({ keepServerSide: true });
    await until("the reconnect", () => welcomes.length === 1, 8000);
    expect(ghost.nick).toBe("ghost");
    expect(renamed).toEqual([]);
    await ghost.close();
    proxy.close();
  });
});

describe("client library across a server restart", () => {
  test("reconnects with backoff to the restarted server and follows its rooms afresh", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const flags = ["--port", String(port), "--rate-per-s", "0"];
    let server = await startChatServer("bun", flags);
    const c = client(port, "survivor", { rooms: ["ops"] });
    await c.connect();
    await c.send("ops", "before");
    const states: string[] = [];
    c.on("state", (s) => states.push(s.state));
    server.signal("SIGKILL");
    await server.exited;
    await until("reconnecting", () => states.includes("reconnecting"));
    await sleep(300);
    server = await startChatServer("bun", flags);
    try {
      await until("online again", () => c.state === "online", 8000);
      await until("rooms rejoined", () => c.rooms.has("ops"));
      const got: string[] = [];
      c.on("msg", (m) => got.push(m.text));
      const other = client(port, "other", { rooms: ["ops"] });
      await other.connect();
      await other.send("ops", "after restart");
      await until("the new message", () => got.includes("after restart"));
      await other.close();
      await c.close();
    } finally {
      await server.stop();
    }
  }, 20_000);
});
