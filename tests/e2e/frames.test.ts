/**
 * Every row of the contract's client-frame table, with and without `id`,
 * against the real server under each runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("client frames (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "0"]);
  });
  afterAll(() => server.stop());

  test("hello: welcome with id and limits; without id no id; nick_taken and nick_invalid", async () => {
    const a = await TestClient.connect(server.port);
    const welcome = await a.request({ type: "hello", nick: "frames_a", id: "h1" });
    expect(welcome).toMatchObject({
      type: "welcome",
      nick: "frames_a",
      id: "h1",
      server: { name: "tcpchat" },
      heartbeat: { interval_ms: 30000, timeout_ms: 90000 },
      limits: { max_frame: 16384, max_text: 4000, rate_per_s: 0, burst: 10 },
    });
    expect(typeof welcome.session).toBe("string");
    const b = await TestClient.connect(server.port);
    b.send({ type: "hello", nick: "frames_b" });
    const plain = await b.next();
    expect(plain.type).toBe("welcome");
    expect(plain).not.toHaveProperty("id");
    const c = await TestClient.connect(server.port);
    expect(await c.request({ type: "hello", nick: "FRAMES_A" })).toMatchObject({ type: "error", code: "nick_taken" });
    c.send({ type: "hello", nick: "bad nick" });
    expect(await c.next()).toMatchObject({ type: "error", code: "nick_invalid" });
    for (const client of [a, b, c]) client.destroy();
  });

  test("frames before hello get not_registered, except ping; type is the first key", async () => {
    const c = await TestClient.connect(server.port);
    c.send({ type: "join", room: "x", id: "j" });
    const line = await c.nextLine();
    expect(line.startsWith('{"type":"error"')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ code: "not_registered", id: "j" });
    c.send({ type: "ping", t: 42 });
    expect(await c.next()).toEqual({ type: "pong", t: 42 });
    c.destroy();
  });

  test("join (with and without id), msg, leave, who, rooms", async () => {
    const a = await TestClient.register(server.port, "rows_a");
    const b = await TestClient.register(server.port, "rows_b");
    const snap = await a.request({ type: "join", room: "#rows", id: "j1" });
    expect(snap).toMatchObject({ type: "room", room: "rows", seq: 0, members: ["rows_a"], history: [], id: "j1" });
    expect(await a.next()).toEqual({ type: "join", room: "rows", nick: "rows_a" });
    b.send({ type: "join", room: "rows" });
    expect(await b.waitFor((f) => f.type === "room")).not.toHaveProperty("id");
    expect(await a.waitFor((f) => f.type === "join")).toEqual({ type: "join", room: "rows", nick: "rows_b" });

    const ack = await a.request({ type: "msg", room: "rows", text: "hello", id: "m1" });
    expect(ack).toMatchObject({ type: "msg", room: "rows", from: "rows_a", text: "hello", seq: 1, id: "m1" });
    const got = await b.waitFor((f) => f.type === "msg");
    expect(got).toEqual({ type: "msg", room: "rows", from: "rows_a", text: "hello", seq: 1, ts: ack.ts });
    b.send({ type: "msg", room: "rows", text: "no id" });
    expect(await b.waitFor((f) => f.type === "msg")).not.toHaveProperty("id");

    expect(await a.request({ type: "who", room: "rows" })).toMatchObject({
      type: "who",
      room: "rows",
      users: [{ nick: "rows_a", status: "online" }, { nick: "rows_b", status: "online" }],
    });
    const rooms = await a.request({ type: "rooms" });
    expect(rooms.rooms).toContainEqual({ name: "rows", members: 2, seq: 2 });

    expect(await b.request({ type: "leave", room: "rows", id: "l1" })).toEqual({ type: "left", room: "rows", id: "l1" });
    expect(await a.waitFor((f) => f.type === "leave")).toEqual({
      type: "leave",
      room: "rows",
      nick: "rows_b",
      reason: "left",
    });
    expect(await b.request({ type: "leave", room: "rows" })).toMatchObject({ code: "not_in_room" });
    expect(await b.request({ type: "msg", room: "rows", text: "x" })).toMatchObject({ code: "not_in_room" });
    expect(await b.request({ type: "who", room: "nowhere" })).toMatchObject({ code: "no_such_room" });
    a.destroy();
    b.destroy();
  });

  test("nick, dm, status, ping, pong, quit", async () => {
    const a = await TestClient.register(server.port, "misc_a");
    const b = await TestClient.register(server.port, "misc_b");
    expect(await a.request({ type: "nick", nick: "misc_c" })).toMatchObject({ type: "nick", old: "misc_a", new: "misc_c" });
    expect(await b.waitFor((f) => f.type === "nick")).toEqual({ type: "nick", old: "misc_a", new: "misc_c" });
    expect(await a.request({ type: "nick", nick: "MISC_B" })).toMatchObject({ code: "nick_taken" });

    const copy = await a.request({ type: "dm", to: "misc_b", text: "psst", id: "d1" });
    expect(copy).toMatchObject({ type: "dm", from: "misc_c", to: "misc_b", text: "psst", id: "d1" });
    expect(await b.waitFor((f) => f.type === "dm")).toEqual({
      type: "dm",
      from: "misc_c",
      to: "misc_b",
      text: "psst",
      ts: copy.ts,
    });
    expect(await a.request({ type: "dm", to: "nobody", text: "?" })).toMatchObject({ code: "no_such_user" });

    expect(await a.request({ type: "status", status: "away", note: "lunch" })).toMatchObject({
      type: "presence",
      nick: "misc_c",
      status: "away",
      note: "lunch",
    });
    expect(await b.waitFor((f) => f.type === "presence")).toEqual({
      type: "presence",
      nick: "misc_c",
      status: "away",
      note: "lunch",
    });

    expect(await a.request({ type: "ping", t: "tok", id: "p" })).toEqual({ type: "pong", t: "tok", id: "p" });
    a.send({ type: "pong", t: 1 });
    a.send({ type: "ping" });
    expect(await a.next()).toEqual({ type: "pong" });

    expect(await a.request({ type: "quit", reason: "done", id: "q" })).toEqual({ type: "bye", reason: "quit", id: "q" });
    await a.waitClosed();
    expect(await b.waitFor((f) => f.type === "leave")).toEqual({ type: "leave", room: "lobby", nick: "misc_c", reason: "quit" });
    expect(await b.waitFor((f) => f.type === "presence")).toEqual({
      type: "presence",
      nick: "misc_c",
      status: "offline",
      reason: "quit",
    });
    b.destroy();
  });
});
