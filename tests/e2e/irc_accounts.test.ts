/**
 * Accounts and moderation as IRC clients see them: PASS logs in to the
 * account NICK names (464 for a wrong password, 433 without one), and a kick
 * or ban arrives as KICK, a topic change as TOPIC; every IRC path that
 * carries a password (SASL PLAIN, OPER, NickServ IDENTIFY and REGISTER, PASS)
 * obeys `plaintext_auth`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { makeTestCerts } from "../support/tls_certs.ts";

const OUTSIDE_ADDRESS = Object.values(networkInterfaces()).flat().find((a) => a?.family === "IPv4" && !a.internal)?.address;

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

  test("no user takes NickServ or a look-alike of it, on any dialect: nick_taken (IRC 433)", async () => {
    const json = await TestClient.connect(server.port);
    expect(await json.request({ type: "hello", nick: "nickserv" })).toMatchObject({ type: "error", code: "nick_taken" });
    expect(await json.request({ type: "hello", nick: "jsonuser" })).toMatchObject({ type: "welcome" });
    // Cyrillic е: the same skeleton.
    const renamed = await json.request({ type: "nick", nick: "NickS\u0435rv" });
    expect(renamed).toMatchObject({ type: "error", code: "nick_taken" });
    expect(renamed.message).toContain("NickServ service");
    const text = await TestClient.connect(server.port);
    text.send("NICKSERV\r\n");
    expect(await text.waitForLine(/nick_taken/)).toContain("NickServ service");
    const irc = await TestClient.connect(server.port);
    irc.send("NICK NickServ\r\nUSER n 0 * :N\r\n");
    expect(await irc.waitForLine(/ 433 /)).toContain("NickServ");
    irc.send("NICK servfan\r\n");
    await irc.waitForLine(/ 001 servfan /);
    irc.send("NICK nickServ\r\n");
    expect(await irc.waitForLine(/ 433 /)).toContain("nickServ");
    // NickServ still answers.
    irc.send("PRIVMSG NickServ :HELP\r\n");
    expect(await irc.waitForLine(/^:NickServ!NickServ@services.tcpchat NOTICE servfan :/)).toBeString();
    for (const c of [json, text, irc]) c.destroy();
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

  test("an IRC channel creator operates it: TOPIC, KICK and INVITE go through the hub; KILL is 481; keys and bans are numerics", async () => {
    const ircop = await TestClient.connect(server.port);
    ircop.send("NICK ircop\r\nUSER o 0 * :O\r\n");
    await ircop.waitForLine(/ 001 /);
    ircop.send("JOIN #irc2\r\n");
    await ircop.waitForLine(/ 366 .*#irc2/);
    const victim = await TestClient.register(server.port, "victim");
    await victim.request({ type: "join", room: "irc2" });
    ircop.send("TOPIC #irc2 :hello all\r\n");
    expect(await victim.waitFor((f) => f.type === "topic")).toMatchObject({ room: "irc2", topic: "hello all", by: "ircop" });
    ircop.send("KICK #irc2 victim :bye now\r\n");
    expect(await ircop.waitForLine(/ KICK /)).toBe(":ircop!ircop@tcpchat KICK #irc2 victim :bye now");
    expect(await victim.waitFor((f) => f.type === "leave")).toMatchObject({ nick: "victim", reason: "kicked", by: "ircop", note: "bye now" });
    ircop.send("INVITE victim #irc2\r\n");
    expect(await ircop.waitForLine(/ 341 /)).toBe(":tcpchat 341 ircop victim :#irc2");
    expect(await victim.waitFor((f) => f.type === "invite")).toEqual({ type: "invite", room: "irc2", from: "ircop" });
    ircop.send("KILL victim :go\r\n");
    expect(await ircop.waitForLine(/ 481 /)).toContain("not an IRC operator");

    await victim.request({ type: "join", room: "locked" });
    await victim.request({ type: "mode", room: "locked", key: "sesame" });
    ircop.send("JOIN #locked\r\n");
    expect(await ircop.waitForLine(/ 475 /)).toBe(":tcpchat 475 ircop #locked :Cannot join channel (+k)");
    ircop.send("JOIN #locked sesame\r\n");
    expect(await ircop.waitForLine(/ JOIN /)).toBe(":ircop!ircop@tcpchat JOIN #locked");
    await victim.request({ type: "ban", room: "locked", nick: "ircop" });
    expect(await ircop.waitForLine(/ KICK /)).toBe(":victim!victim@tcpchat KICK #locked ircop :Banned");
    ircop.send("JOIN #locked sesame\r\n");
    expect(await ircop.waitForLine(/ 474 /)).toBe(":tcpchat 474 ircop #locked :Cannot join channel (+b)");
    ircop.destroy();
    victim.destroy();
  });
});

// The rule lives in the connection, the same on every runtime: one runtime is enough here.
describe.skipIf(OUTSIDE_ADDRESS === undefined)("IRC passwords and plaintext_auth (bun)", () => {
  const password = "irc-keeper-password";
  const sasl = (account: string) => Buffer.from(`${account}\0${account}\0${password}`).toString("base64");

  test("SASL PLAIN, OPER, NickServ IDENTIFY/REGISTER and PASS over plain TCP from another host answer tls_required and check nothing", async () => {
    const certs = makeTestCerts();
    await using server = await startChatServer("bun", [
      "--host", "0.0.0.0",
      "--tls-listen", "0.0.0.0:0",
      "--tls-cert", certs.server.cert,
      "--tls-key", certs.server.key,
      "--operators", "keeper",
    ]);
    const tlsLine = await server.waitForLine(/^listening tls /);
    const tlsPort = Number(tlsLine.slice(tlsLine.lastIndexOf(":") + 1));
    const owner = await TestClient.register(server.port, "keeper");
    expect(await owner.request({ type: "register", password })).toMatchObject({ type: "account" });
    owner.destroy();

    const remote = await TestClient.connect(server.port, { host: OUTSIDE_ADDRESS });
    let heard = "";
    remote.socket.on("data", (data: string) => (heard += data));
    remote.send("CAP LS 302\r\nNICK roamer\r\nUSER r 0 * :R\r\n");
    await remote.waitForLine(/ CAP \* LS /);
    remote.send("CAP REQ :sasl\r\n");
    await remote.waitForLine(/ CAP \* ACK /);
    remote.send("AUTHENTICATE PLAIN\r\n");
    await remote.waitForLine("AUTHENTICATE +");
    remote.send(`AUTHENTICATE ${sasl("keeper")}\r\n`);
    const saslRefusal = await remote.waitForLine(/ 904 /);
    expect(saslRefusal).toContain("connect with TLS");
    expect(saslRefusal).toContain(`port ${tlsPort}`);
    remote.send("CAP END\r\n");
    await remote.waitForLine(/ 001 roamer /);
    remote.send(`OPER keeper ${password}\r\n`);
    expect(await remote.waitForLine(/ 464 /)).toContain("connect with TLS");
    remote.send(`PRIVMSG NickServ :IDENTIFY keeper ${password}\r\n`);
    expect(await remote.waitForLine(/NOTICE roamer :/)).toContain("tls_required");
    remote.send(`PRIVMSG NickServ :REGISTER ${password}\r\n`);
    expect(await remote.waitForLine(/NOTICE roamer :/)).toContain("tls_required");
    // Nothing above logged in (900, 903, WHOIS 330), made an operator (381) or registered the nick.
    remote.send("WHOIS roamer\r\n");
    await remote.waitForLine(/ 318 /);
    expect(heard).toContain(" 311 roamer roamer ");
    expect(heard).not.toMatch(/ (900|903|330|381) /);

    // PASS before registration carries a password too.
    const passer = await TestClient.connect(server.port, { host: OUTSIDE_ADDRESS });
    passer.send(`PASS ${password}\r\nNICK keeper\r\nUSER k 0 * :K\r\n`);
    expect(await passer.waitForLine(/tls_required|connect with TLS/)).toContain(`port ${tlsPort}`);

    // None of the refusals counted as a wrong guess, and over TLS the same client logs in and opers up.
    const secure = await TestClient.connectTls(tlsPort, { host: OUTSIDE_ADDRESS, insecure: true });
    secure.send("CAP LS 302\r\nCAP REQ :sasl\r\nNICK keeper\r\nUSER k 0 * :K\r\nAUTHENTICATE PLAIN\r\n");
    await secure.waitForLine("AUTHENTICATE +");
    secure.send(`AUTHENTICATE ${sasl("keeper")}\r\n`);
    await secure.waitForLine(/ 903 /);
    secure.send("CAP END\r\n");
    await secure.waitForLine(/ 001 keeper /);
    secure.send(`OPER keeper ${password}\r\n`);
    await secure.waitForLine(/ 381 /);
    expect(server.stdout() + server.stderr()).not.toContain(password);
    for (const client of [remote, passer, secure]) client.destroy();
  });
});
