/**
 * Accounts and moderation as IRC clients see them: PASS logs in to the
 * account NICK names (464 for a wrong password, 433 without one), and a kick
 * or ban arrives as KICK, a topic change as TOPIC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";

describe.each(SERVER_RUNTIMES)("IRC accounts and moderation (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "1000", "--burst", "1000"]);
  });
  afterAll(() => server.stop());

  test("PASS before NICK/USER logs in to the account; a wrong one is 464, none is 433", async () => {
    const owner = await TestClient.register(server.port, "ircuser");
    await owner.request({ type: "register", password: "irc-password-1" });
    owner.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const none = await TestClient.connect(server.port);
    none.send("NICK ircuser\r\nUSER u 0 * :U\r\n");
    expect(await none.waitForLine(/ 433 /)).toContain("registered account");
    const wrong = await TestClient.connect(server.port);
    wrong.send("PASS wrong-password\r\nNICK ircuser\r\nUSER u 0 * :U\r\n");
    expect(await wrong.waitForLine(/ 464 /)).toContain("Password incorrect");
    const right = await TestClient.connect(server.port);
    right.send("PASS irc-password-1\r\nNICK ircuser\r\nUSER u 0 * :U\r\n");
    await right.waitForLine(/ 001 /);
    const json = await TestClient.register(server.port, "watcher");
    const who = await json.request({ type: "who", room: "lobby" });
    expect(who.users).toContainEqual(expect.objectContaining({ nick: "ircuser", account: "ircuser" }));
    for (const c of [none, wrong, right, json]) c.destroy();
  });

  test("a kick reaches an IRC member as KICK with the reason; a topic as TOPIC", async () => {
    const op = await TestClient.register(server.port, "chanop");
    await op.request({ type: "join", room: "ircden" });
    const irc = await TestClient.connect(server.port);
    irc.send("NICK ircguest\r\nUSER g 0 * :G\r\n");
    await irc.waitForLine(/ 001 /);
    irc.send("JOIN #ircden\r\n");
    await irc.waitForLine(/ 366 .*#ircden/);
    await op.request({ type: "topic", room: "ircden", topic: "be nice" });
    expect(await irc.waitForLine(/ TOPIC /)).toBe(":chanop!chanop@tcpchat TOPIC #ircden :be nice");
    await op.request({ type: "kick", room: "ircden", nick: "ircguest", reason: "not nice" });
    expect(await irc.waitForLine(/ KICK /)).toBe(":chanop!chanop@tcpchat KICK #ircden ircguest :not nice");
    irc.send("PRIVMSG #ircden :still here?\r\n");
    expect(await irc.waitForLine(/ 404 /)).toContain("#ircden");
    // Kicked, not banned: joining again shows the channel again.
    irc.send("JOIN #ircden\r\n");
    expect(await irc.waitForLine(/ JOIN /)).toBe(":ircguest!ircguest@tcpchat JOIN #ircden");
    op.destroy();
    irc.destroy();
  });
});
