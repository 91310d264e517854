/**
 * Abuse resistance (issue 17), what people see: nicks that look like another
 * user's are refused, other users' text reaches text users inert, and a
 * lone surrogate never reaches anyone. Against the real server on every runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

/** The nicks of issue 17's table that were all accepted while `bob` was online, and their expected answers. */
const LOOKALIKES: [string, string, "nick_invalid" | "nick_taken"][] = [
  ["bob + U+034F combining grapheme joiner", "bob\u034f", "nick_invalid"],
  ["bob + U+FE0F variation selector", "bob\ufe0f", "nick_invalid"],
  ["bob + U+E0100 variation selector", "bob\u{e0100}", "nick_invalid"],
  ["bob + U+180B Mongolian variation selector", "bob\u180b", "nick_invalid"],
  ["Hangul filler U+3164 alone (blank)", "\u3164", "nick_invalid"],
  ["halfwidth Hangul filler U+FFA0 alone (blank)", "\uffa0", "nick_invalid"],
  ["Hangul choseong filler U+115F alone (blank)", "\u115f", "nick_invalid"],
  ["a + 31 combining marks", "a" + "\u0301".repeat(31), "nick_invalid"],
  ["Cyrillic bоb", "b\u043eb", "nick_taken"],
  ["Greek capitals ΒΟΒ", "\u0392\u039f\u0392", "nick_taken"],
];

describe.each(SERVER_RUNTIMES)("abuse: nicks and text (%s)", (runtime) => {
  let server: ChatServerProcess;
  let bob: TestClient;
  beforeAll(async () => {
    // Every rename spends a token, refused or not (as msg does): a burst with room for dave's
    // ten look-alike renames and his marker message.
    server = await startChatServer(runtime, ["--burst", "20"]);
    bob = await TestClient.register(server.port, "bob");
  });
  afterAll(async () => {
    bob.destroy();
    await server.stop();
  });

  test("look-alike and invisible nicks are refused by hello while bob is online", async () => {
    const c = await TestClient.connect(server.port);
    for (const [, nick, code] of LOOKALIKES) {
      const answer = await c.request({ type: "hello", nick });
      expect({ nick, type: answer.type, code: answer.code }).toEqual({ nick, type: "error", code });
    }
    // Still unregistered, and an ordinary nick still works on the same connection.
    expect(await c.request({ type: "hello", nick: "carol" })).toMatchObject({ type: "welcome", nick: "carol" });
    c.destroy();
  });

  test("the same nicks are refused by nick (rename), and nobody hears of a rename", async () => {
    const dave = await TestClient.register(server.port, "dave");
    await bob.waitFor((f) => f.type === "join" && f.nick === "dave");
    for (const [, nick, code] of LOOKALIKES) {
      expect(await dave.request({ type: "nick", nick })).toMatchObject({ type: "error", code });
    }
    const marker = await dave.request({ type: "msg", room: "lobby", text: "still dave" });
    expect(marker).toMatchObject({ type: "msg", from: "dave" });
    // bob's next frame from dave is the marker message: no nick event came before it.
    expect(await bob.waitFor((f) => f.type === "nick" || (f.type === "msg" && f.from === "dave"))).toMatchObject({
      type: "msg",
      text: "still dave",
    });
    dave.destroy();
  });

  test("a text user is refused the same nicks and asked again", async () => {
    const person = await TestClient.connect(server.port);
    await person.waitForLine("Type a nick");
    person.send("b\u043eb\r\n");
    expect(await person.nextLine()).toMatch(/^! nick_taken: .*another nick/);
    person.send("bob\ufe0f\r\n");
    expect(await person.nextLine()).toMatch(/^! nick_invalid: .*invisible/);
    person.send("erin\r\n");
    await person.waitForLine("Welcome, erin");
    person.destroy();
  });

  test("ordinary nicks in many scripts still register", async () => {
    const nicks = ["José", "Nguyễn", "日本", "Ελληνικά", "Дмитрий", "محمد", "हिन्दी", "श्रीनिवास", "ไทย", "עברית"];
    const clients = [];
    for (const nick of nicks) {
      const c = await TestClient.connect(server.port);
      expect(await c.request({ type: "hello", nick })).toMatchObject({ type: "welcome", nick });
      clients.push(c);
    }
    for (const c of clients) c.destroy();
  });

  test("a text user sees U+FFFD for bidi controls and line separators in a JSON user's message", async () => {
    const person = await TestClient.connect(server.port);
    person.send("tess\r\n");
    await person.waitForLine("Now in #lobby");
    const mallory = await TestClient.register(server.port, "mallory");
    await mallory.request({ type: "msg", room: "lobby", text: "invoice\u202Efdp.exe" });
    expect(await person.waitForLine("<mallory>")).toBe("[lobby] <mallory> invoice\ufffdfdp.exe");
    await mallory.request({ type: "msg", room: "lobby", text: "a\u2028[lobby] <bob> b\u2029c\u2066d\u2069\u200f" });
    expect(await person.waitForLine("<mallory>")).toBe("[lobby] <mallory> a\ufffd[lobby] <bob> b\ufffdc\ufffdd\ufffd\ufffd");
    await mallory.request({ type: "status", status: "away", note: "\u202Eyawa" });
    expect(await person.waitForLine("is away")).toBe("* mallory is away (\ufffdyawa)");
    // JSON users get the text as sent: it is theirs to render.
    expect(await bob.waitFor((f) => f.type === "msg" && f.from === "mallory")).toMatchObject({
      text: "invoice\u202Efdp.exe",
    });
    person.destroy();
    mallory.destroy();
  });

  test("a text with a lone surrogate is invalid (field text) and nothing is broadcast", async () => {
    const sender = await TestClient.register(server.port, "surro");
    const watcher = await TestClient.register(server.port, "watcher");
    sender.send('{"type":"msg","room":"lobby","text":"a\\ud800b","id":"s1"}\n');
    expect(await sender.waitFor((f) => f.id === "s1")).toMatchObject({ type: "error", code: "invalid", field: "text" });
    sender.send('{"type":"dm","to":"watcher","text":"\\udc00","id":"s2"}\n');
    expect(await sender.waitFor((f) => f.id === "s2")).toMatchObject({ type: "error", code: "invalid", field: "text" });
    sender.send('{"type":"status","status":"away","note":"x\\ud83d","id":"s3"}\n');
    expect(await sender.waitFor((f) => f.id === "s3")).toMatchObject({ type: "error", code: "invalid", field: "note" });
    await sender.request({ type: "msg", room: "lobby", text: "after" });
    // The watcher's next frame from surro is the good message: nothing before it.
    const first = await watcher.waitFor((f) => f.from === "surro" || f.nick === "surro");
    expect(first).toMatchObject({ type: "msg", text: "after", seq: expect.any(Number) });
    sender.destroy();
    watcher.destroy();
  });
});
