/**
 * The IRC dialect as IRC clients use it: irc-framework for registration,
 * capabilities and commands, and raw sockets for exact numerics and bad
 * input; IRC, JSON and text users sharing rooms.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { IrcTestClient } from "../support/irc_client.ts";

/** Registers over a raw socket with NICK and USER (no CAP), waiting for 001. */
async function rawIrc(port: number, nick: string, caps?: string): Promise<TestClient> {
  const client = await TestClient.connect(port);
  if (caps) client.send(`CAP LS 302\r\nCAP REQ :${caps}\r\n`);
  client.send(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick} realname\r\n`);
  if (caps) client.send("CAP END\r\n");
  await client.waitForLine(/ 001 /);
  await client.waitForLine(/ 366 .*#lobby/);
  return client;
}

describe.each(SERVER_RUNTIMES)("IRC dialect (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "50", "--burst", "50"]);
  });
  afterAll(() => server.stop());

  test("CAP LS 302 negotiation, then 001-005 with ISUPPORT telling the server's limits, LUSERS, 422 and #lobby with NAMES", async () => {
    const irc = await IrcTestClient.connect(server.port, "capper", {
      caps: ["labeled-response", "cap-notify"],
      echo: true,
    });
    expect(irc.lines[0]).toMatch(/^:tcpchat CAP \* LS :.*server-time.*echo-message.*labeled-response/);
    expect(irc.lines[0]).toMatch(/ sasl=PLAIN account-tag draft\/account-registration/);
    expect(irc.lines[0]).toMatch(/ draft\/chathistory( |$)/);
    expect(irc.client.network.cap.enabled).toEqual(expect.arrayContaining([
      "server-time", "message-tags", "echo-message", "away-notify", "multi-prefix", "batch", "labeled-response",
      "extended-join", "userhost-in-names",
    ]));
    const isupport = irc.lines.filter((l) => / 005 /.test(l)).join(" ");
    for (const token of ["NICKLEN=32", "CHANNELLEN=65", "CASEMAPPING=rfc8265", "CHANTYPES=#", "PREFIX=(o)@", "CHANMODES=b,k,,int", "EXTBAN=$,a", "MODES=4", "TOPICLEN=300", "AWAYLEN=200", "NETWORK=tcpchat", "UTF8ONLY", "LINELEN=512", "CHATHISTORY=100", "MSGREFTYPES=msgid,timestamp"]) {
      expect(isupport).toContain(token);
    }
    expect(irc.lines.some((l) => /^:tcpchat 002 capper :Your host is tcpchat/.test(l))).toBe(true);
    await irc.waitForLine(/ 251 capper :There are \d+ users/);
    await irc.waitForLine(/ 422 capper /);
    // extended-join: account `*` (a guest) and the realname.
    expect(await irc.waitForLine(/JOIN/)).toBe(":capper!capper@tcpchat JOIN #lobby * :capper realname");
    expect(await irc.waitForLine(/ 353 /)).toMatch(/^:tcpchat 353 capper = #lobby :.*capper!capper@tcpchat/);
    await irc.waitForLine(/ 366 capper #lobby :End of \/NAMES list/);
    irc.send("CAP LIST");
    expect(await irc.waitForLine(/CAP capper LIST/)).toContain("echo-message");
    irc.send("CAP REQ :sasl draft/frobnicate");
    expect(await irc.waitForLine(/CAP capper NAK/)).toBe(":tcpchat CAP capper NAK :sasl draft/frobnicate");
    irc.send("CAP FROB");
    await irc.waitForLine(/ 410 capper FROB /);
    irc.client.quit("done");
  });

  test("registration without CAP; a taken nick gets 433 and NICK again completes it; commands before it get 451", async () => {
    const json = await TestClient.register(server.port, "Holder");
    const raw = await TestClient.connect(server.port);
    raw.send("NICK holder\r\nJOIN #lobby\r\n");
    expect(await raw.waitForLine(/ 451 /)).toBe(":tcpchat 451 * :You have not registered");
    raw.send("USER h 0 * :H\r\n");
    expect(await raw.waitForLine(/ 433 /)).toBe(":tcpchat 433 * holder :Nickname is already in use");
    raw.send("NICK bad!nick\r\n");
    expect(await raw.waitForLine(/ 432 /)).toMatch(/^:tcpchat 432 \* bad!nick :Erroneous nickname/);
    raw.send("NICK holder2\r\n");
    expect(await raw.waitForLine(/ 001 /)).toBe(":tcpchat 001 holder2 :Welcome to the tcpchat IRC network holder2");
    raw.send("USER again 0 * :x\r\nPASS secret\r\n");
    expect(await raw.waitForLine(/ 462 /)).toBe(":tcpchat 462 holder2 :You may not reregister");
    raw.destroy();
    json.destroy();
  });

  test("IRC, JSON and text users in one room see every message, action, join, part, nick change, away and quit", async () => {
    const json = await TestClient.register(server.port, "jules");
    const text = await TestClient.connect(server.port);
    text.send("tess\n");
    await text.waitForLine("Now in #lobby");
    const irc = await IrcTestClient.connect(server.port, "ike", { caps: ["away-notify"] });
    await irc.waitForLine(/ 366 ike #lobby/);
    expect(await json.waitFor((f) => f.type === "join" && f.nick === "ike")).toMatchObject({ room: "lobby" });
    expect(await text.waitForLine("ike joined")).toBe("* ike joined #lobby");

    // IRC speaks.
    irc.client.say("#lobby", "hello from irc");
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "ike")).toMatchObject({ room: "lobby", text: "hello from irc" });
    expect(await text.waitForLine("<ike>")).toBe("[lobby] <ike> hello from irc");
    irc.client.action("#lobby", "waves");
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "ike")).toMatchObject({ text: "/me waves" });
    expect(await text.waitForLine("waves")).toBe("[lobby] * ike waves");

    // JSON and text speak; the text user's /me is a CTCP ACTION on IRC.
    json.send({ type: "msg", room: "lobby", text: "hi ike" });
    expect(await irc.waitForUntagged(/PRIVMSG #lobby :hi ike/)).toBe(":jules!jules@tcpchat PRIVMSG #lobby :hi ike");
    text.send("/me nods\n");
    expect(await irc.waitForUntagged(/ACTION nods/)).toBe(":tess!tess@tcpchat PRIVMSG #lobby :\x01ACTION nods\x01");
    // A JSON message with a newline is two PRIVMSG lines.
    json.send({ type: "msg", room: "lobby", text: "line one\nline two" });
    await irc.waitForLine(/PRIVMSG #lobby :line one$/);
    await irc.waitForLine(/PRIVMSG #lobby :line two$/);

    // Direct messages both ways.
    irc.client.say("jules", "psst");
    expect(await json.waitFor((f) => f.type === "dm")).toMatchObject({ from: "ike", to: "jules", text: "psst" });
    json.send({ type: "dm", to: "ike", text: "yes?" });
    expect(await irc.waitForUntagged(/PRIVMSG ike/)).toBe(":jules!jules@tcpchat PRIVMSG ike :yes?");
    text.send("/msg ike from tess\n");
    expect(await irc.waitForUntagged(/PRIVMSG ike :from tess/)).toBe(":tess!tess@tcpchat PRIVMSG ike :from tess");

    // Away, with away-notify on IRC, both ways.
    json.send({ type: "status", status: "away", note: "lunch" });
    expect(await irc.waitForUntagged(/ AWAY/)).toBe(":jules!jules@tcpchat AWAY :lunch");
    irc.send("AWAY :brb");
    await irc.waitForLine(/ 306 ike /);
    expect(await json.waitFor((f) => f.type === "presence" && f.nick === "ike")).toMatchObject({ status: "away", note: "brb" });
    expect(await text.waitForLine("ike is away")).toBe("* ike is away (brb)");
    irc.send("AWAY");
    await irc.waitForLine(/ 305 ike /);
    expect(await text.waitForLine("ike is back")).toBe("* ike is back");
    json.send({ type: "status", status: "online" });
    expect(await irc.waitForUntagged(/ AWAY$/)).toBe(":jules!jules@tcpchat AWAY");

    // Joins and parts of another channel, both ways.
    json.send({ type: "join", room: "dev" });
    irc.client.join("#Dev");
    expect(await irc.waitForUntagged(/JOIN #dev/)).toBe(":ike!ike@tcpchat JOIN #dev * :ike realname");
    expect(await json.waitFor((f) => f.type === "join" && f.room === "dev" && f.nick === "ike")).toBeTruthy();
    json.send({ type: "leave", room: "dev" });
    expect(await irc.waitForUntagged(/PART #dev/)).toBe(":jules!jules@tcpchat PART #dev");
    irc.send("PART #dev :bored");
    expect(await irc.waitForUntagged(/ike@tcpchat PART/)).toBe(":ike!ike@tcpchat PART #dev");

    // Nick changes, both ways.
    irc.send("NICK ike2");
    expect(await irc.waitForUntagged(/ NICK /)).toBe(":ike!ike@tcpchat NICK ike2");
    expect(await json.waitFor((f) => f.type === "nick")).toEqual({ type: "nick", old: "ike", new: "ike2" });
    expect(await text.waitForLine("now known")).toBe("* ike is now known as ike2");
    json.send({ type: "nick", nick: "jules2" });
    expect(await irc.waitForUntagged(/jules@tcpchat NICK/)).toBe(":jules!jules@tcpchat NICK jules2");

    // Quits, both ways: the others see leave and offline; an IRC user sees one QUIT.
    irc.client.quit("see you");
    expect(await json.waitFor((f) => f.type === "leave" && f.nick === "ike2")).toMatchObject({ reason: "quit" });
    expect(await json.waitFor((f) => f.type === "presence" && f.nick === "ike2")).toMatchObject({ status: "offline", reason: "quit" });
    expect(await text.waitForLine("ike2 left")).toBe("* ike2 left #lobby (quit)");
    const other = await IrcTestClient.connect(server.port, "ivy");
    await other.waitForLine(/ 366 ivy #lobby/);
    text.send("/quit\n");
    expect(await other.waitForUntagged(/tess.* QUIT/)).toBe(":tess!tess@tcpchat QUIT :Quit");
    other.client.quit();
    json.destroy();
  });

  test("echo-message, server-time, msgid and labeled-response (tagged echo, ACK, batch)", async () => {
    const json = await TestClient.register(server.port, "teller");
    const raw = await rawIrc(server.port, "tagger", "server-time message-tags echo-message batch labeled-response");
    raw.clear();
    raw.send("@label=m1 PRIVMSG #lobby :tagged hello\r\n");
    const echo = await raw.waitForLine(/PRIVMSG #lobby :tagged hello/);
    expect(echo).toMatch(/^@label=m1;time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;msgid=lobby-\d+-\w+ :tagger!tagger@tcpchat PRIVMSG #lobby :tagged hello$/);
    const msg = await json.waitFor((f) => f.type === "msg" && f.from === "tagger");
    expect(echo).toContain(`time=${new Date(msg.ts).toISOString()}`);
    json.send({ type: "msg", room: "lobby", text: "to tagger" });
    expect(await raw.waitForLine(/to tagger/)).toMatch(/^@time=[^;]+;msgid=lobby-\d+-\w+ :teller!teller@tcpchat PRIVMSG #lobby :to tagger$/);
    raw.send("@label=p1 PONG :x\r\n");
    expect(await raw.waitForLine(/ACK/)).toBe("@label=p1 :tcpchat ACK");
    raw.send("@label=w1 WHO #lobby\r\n");
    expect(await raw.waitForLine(/BATCH \+/)).toMatch(/^@label=w1 :tcpchat BATCH \+(\S+) labeled-response$/);
    expect(await raw.waitForLine(/ 352 /)).toMatch(/^@batch=\S+ :tcpchat 352 tagger #lobby /);
    await raw.waitForLine(/ 315 /);
    await raw.waitForLine(/BATCH -/);
    // Without echo-message the sender sees nothing of its own message.
    const plain = await rawIrc(server.port, "plainer");
    plain.clear();
    plain.send("PRIVMSG #lobby :no echo\r\nPING :after\r\n");
    await plain.waitForLine(/PONG/);
    expect(plain.lines.some((l) => l.includes("no echo"))).toBe(false);
    raw.destroy();
    plain.destroy();
    json.destroy();
  });

  test("queries: WHOIS, WHO, NAMES, LIST, ISON, USERHOST, MODE, TOPIC, MOTD, LUSERS and 301 for an away target", async () => {
    const json = await TestClient.register(server.port, "queried");
    json.send({ type: "status", status: "away", note: "gone fishing" });
    await json.waitFor((f) => f.type === "presence");
    const raw = await rawIrc(server.port, "asker");
    raw.send("WHOIS queried\r\n");
    expect(await raw.waitForLine(/ 311 /)).toBe(":tcpchat 311 asker queried queried tcpchat * :queried");
    expect(await raw.waitForLine(/ 319 /)).toBe(":tcpchat 319 asker queried :#lobby");
    expect(await raw.waitForLine(/ 301 /)).toBe(":tcpchat 301 asker queried :gone fishing");
    await raw.waitForLine(/ 318 asker queried /);
    raw.send("WHOIS nobody\r\n");
    expect(await raw.waitForLine(/ 401 /)).toBe(":tcpchat 401 asker nobody :No such nick/channel");
    await raw.waitForLine(/ 318 asker nobody /);
    raw.send("WHO queried\r\n");
    expect(await raw.waitForLine(/ 352 /)).toBe(":tcpchat 352 asker * queried tcpchat tcpchat queried G :0 queried");
    await raw.waitForLine(/ 315 asker queried /);
    raw.send("NAMES #lobby\r\n");
    expect(await raw.waitForLine(/ 353 /)).toMatch(/^:tcpchat 353 asker = #lobby :.*\bqueried\b/);
    await raw.waitForLine(/ 366 asker #lobby /);
    raw.send("NAMES #nothing-here\r\n");
    expect(await raw.waitForLine(/ 366 /)).toBe(":tcpchat 366 asker #nothing-here :End of /NAMES list");
    raw.send("LIST #lobby\r\n");
    await raw.waitForLine(/ 321 /);
    expect(await raw.waitForLine(/ 322 /)).toMatch(/^:tcpchat 322 asker #lobby \d+ :$/);
    await raw.waitForLine(/ 323 /);
    raw.send("ISON Queried nobody asker\r\n");
    expect(await raw.waitForLine(/ 303 /)).toBe(":tcpchat 303 asker :queried asker");
    raw.send("USERHOST queried\r\n");
    expect(await raw.waitForLine(/ 302 /)).toBe(":tcpchat 302 asker :queried=-queried@tcpchat");
    raw.send("MODE #lobby\r\nMODE #lobby b\r\nMODE #lobby +o queried\r\n");
    expect(await raw.waitForLine(/ 324 /)).toBe(":tcpchat 324 asker #lobby :+nt");
    expect(await raw.waitForLine(/ 368 /)).toBe(":tcpchat 368 asker #lobby :End of channel ban list (operators see the bans)");
    expect(await raw.waitForLine(/ 482 /)).toMatch(/^:tcpchat 482 asker #lobby :You're not channel operator/);
    raw.send("MODE asker +i\r\nMODE asker\r\nMODE asker +w\r\nMODE queried +i\r\n");
    expect(await raw.waitForLine(/ MODE asker/)).toBe(":asker!asker@tcpchat MODE asker +i");
    expect(await raw.waitForLine(/ 221 /)).toBe(":tcpchat 221 asker :+i");
    await raw.waitForLine(/ 501 asker /);
    await raw.waitForLine(/ 502 asker /);
    raw.send("TOPIC #lobby\r\nTOPIC #lobby :new\r\n");
    expect(await raw.waitForLine(/ 331 /)).toBe(":tcpchat 331 asker #lobby :No topic is set");
    // The lobby has no operator present, so its topic lock lets anyone set the topic.
    expect(await raw.waitForLine(/ TOPIC /)).toBe(":asker!asker@tcpchat TOPIC #lobby :new");
    raw.send("TOPIC #lobby\r\n");
    expect(await raw.waitForLine(/ 332 /)).toBe(":tcpchat 332 asker #lobby :new");
    raw.send("MOTD\r\nLUSERS\r\n");
    await raw.waitForLine(/ 422 asker /);
    await raw.waitForLine(/ 266 asker /);
    raw.send("PRIVMSG queried :are you there?\r\n");
    expect(await raw.waitForLine(/ 301 /)).toBe(":tcpchat 301 asker queried :gone fishing");
    expect(await json.waitFor((f) => f.type === "dm")).toMatchObject({ from: "asker", text: "are you there?" });
    raw.destroy();
    json.destroy();
  });

  test("errors are numerics: 421, 461, 411, 412, 401, 403, 476, 442, 404, 431, 482, 481, 491", async () => {
    const raw = await rawIrc(server.port, "oops");
    const expectations: [string, string][] = [
      ["FROB x", ":tcpchat 421 oops FROB :Unknown command"],
      ["JOIN", ":tcpchat 461 oops JOIN :Not enough parameters"],
      ["USER", ":tcpchat 461 oops USER :Not enough parameters"],
      ["PRIVMSG", ":tcpchat 411 oops :No recipient given (PRIVMSG)"],
      ["PRIVMSG #lobby", ":tcpchat 412 oops :No text to send"],
      ["PRIVMSG ghost :hi", ":tcpchat 401 oops ghost :No such nick/channel"],
      ["JOIN lobby", ":tcpchat 403 oops lobby :No such channel"],
      ["JOIN #b@d", ":tcpchat 476 oops #b@d :Bad Channel Mask: 1-64 of a-z 0-9 _ - . after #"],
      [`JOIN #${"x".repeat(65)}`, `:tcpchat 476 oops #${"x".repeat(65)} :Bad Channel Mask: 1-64 of a-z 0-9 _ - . after #`],
      ["PART #elsewhere", ":tcpchat 403 oops #elsewhere :No such channel"],
      ["PRIVMSG #nowhere :hi", ":tcpchat 403 oops #nowhere :No such channel"],
      ["NICK", ":tcpchat 431 oops :No nickname given"],
      ["KICK #lobby someone", ":tcpchat 482 oops #lobby :You're not channel operator (you are not an operator of #lobby)"],
      ["KILL someone :bye", ":tcpchat 481 oops :Permission Denied- You're not an IRC operator"],
      ["OPER admin secret", ":tcpchat 491 oops :No O-lines for your host"],
    ];
    for (const [line, answer] of expectations) {
      raw.send(`${line}\r\n`);
      expect(await raw.waitForLine(/^:tcpchat (?!PONG)/)).toBe(answer);
    }
    // 442 and 404 need a channel that exists without us.
    const json = await TestClient.register(server.port, "owner");
    await json.request({ type: "join", room: "private" });
    raw.send("PART #private\r\n");
    expect(await raw.waitForLine(/ 442 /)).toBe(":tcpchat 442 oops #private :You're not on that channel");
    raw.send("PRIVMSG #private :let me in\r\n");
    expect(await raw.waitForLine(/ 404 /)).toBe(":tcpchat 404 oops #private :Cannot send to channel (join it first)");
    raw.send("NOTICE #private :quiet\r\nNOTICE ghost :quiet\r\nPING :still\r\n");
    expect(await raw.waitForLine(/PONG/)).toBe(":tcpchat PONG tcpchat :still"); // NOTICE errors are not answered
    raw.destroy();
    json.destroy();
  });

  test("bad input: 417 for lines over 512 bytes, FAIL for non-UTF-8, CTCP oddities; the connection stays", async () => {
    const json = await TestClient.register(server.port, "watcher");
    const raw = await rawIrc(server.port, "noisy");
    raw.send(`PRIVMSG #lobby :${"a".repeat(600)}\r\n`);
    expect(await raw.waitForLine(/ 417 /)).toBe(":tcpchat 417 noisy :Input line was too long");
    raw.send(`PRIVMSG #lobby :${"b".repeat(20_000)}\r\n`); // Past max_frame too.
    expect(await raw.waitForLine(/ 417 /)).toBe(":tcpchat 417 noisy :Input line was too long");
    raw.send(`@+tag=${"t".repeat(5000)} PRIVMSG #lobby :tags too long\r\n`);
    await raw.waitForLine(/ 417 /);
    raw.sendBytes(Uint8Array.from([...Buffer.from("PRIVMSG #lobby :"), 0xff, 0xfe, 0x0d, 0x0a]));
    expect(await raw.waitForLine(/FAIL/)).toMatch(/^:tcpchat FAIL \* INVALID_UTF8 :/);
    // CTCP: VERSION is not delivered, an empty ACTION is dropped, an unterminated ACTION is an action.
    raw.send("PRIVMSG #lobby :\x01VERSION\x01\r\nPRIVMSG #lobby :\x01ACTION\x01\r\nPRIVMSG #lobby :\x01ACTION jumps\r\n");
    raw.send("PRIVMSG #lobby :still here after all that\r\n");
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "noisy")).toMatchObject({ text: "/me jumps" });
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "noisy")).toMatchObject({ text: "still here after all that" });
    // Client-only tags and TAGMSG are accepted and not relayed.
    raw.send("@+typing=active TAGMSG #lobby\r\n@+draft/reply=x PRIVMSG #lobby :with a tag\r\n");
    expect(await json.waitFor((f) => f.type === "msg" && f.from === "noisy")).toMatchObject({ text: "with a tag" });
    expect(raw.ended).toBe(false);
    raw.destroy();
    json.destroy();
  });

  test("a first line of NICK on the main port is IRC; a socket closed without QUIT frees its nick at once", async () => {
    const watcher = await TestClient.register(server.port, "seer");
    const raw = await TestClient.connect(server.port);
    raw.send("nick Sudden\r\nuser s 0 * :S\r\n");
    await raw.waitForLine(/^:tcpchat 001 Sudden /);
    await watcher.waitFor((f) => f.type === "join" && f.nick === "Sudden");
    raw.destroy();
    expect(await watcher.waitFor((f) => f.type === "presence" && f.nick === "Sudden")).toMatchObject({ status: "offline", reason: "disconnect" });
    const again = await rawIrc(server.port, "sudden");
    again.destroy();
    watcher.destroy();
  });
});

describe.each(SERVER_RUNTIMES)("IRC limits and irc_listen (%s)", (runtime) => {
  let server: ChatServerProcess;
  let ircPort: number;
  beforeAll(async () => {
    server = await startChatServer(runtime, [
      "--irc-listen", "127.0.0.1:0",
      "--register-timeout", "600ms",
      "--heartbeat-interval", "300ms",
      "--heartbeat-max-missed", "2",
      "--rate-per-s", "2",
      "--burst", "3",
      "--flood-strikes", "4",
    ]);
    const line = await server.waitForLine(/^irc /);
    ircPort = Number(line.split(":").at(-1));
  });
  afterAll(() => server.stop());

  test("on irc_listen a client that waits gets no text greeting and registers with IRC", async () => {
    const raw = await TestClient.connect(ircPort);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(raw.lines).toEqual([]);
    // Even a first line that is not a registration command is IRC here.
    raw.send("PING :early\r\n");
    expect(await raw.waitForLine(/PONG/)).toBe(":tcpchat PONG tcpchat :early");
    raw.send("NICK listener\r\nUSER l 0 * :L\r\n");
    await raw.waitForLine(/ 001 listener /);
    raw.destroy();
  });

  test("registration never finished is closed after register_timeout with ERROR", async () => {
    const raw = await TestClient.connect(server.port);
    raw.send("NICK halfway\r\n");
    expect(await raw.waitForLine(/^ERROR/, 3000)).toBe("ERROR :Closing Link: Ping timeout");
    await raw.waitClosed();
  });

  test("the server PINGs a silent IRC client; one that answers stays, one that does not is closed", async () => {
    const answering = await TestClient.connect(ircPort);
    answering.send("NICK answers\r\nUSER a 0 * :A\r\n");
    await answering.waitForLine(/ 001 /);
    const silent = await TestClient.connect(ircPort);
    silent.send("NICK silent\r\nUSER s 0 * :S\r\n");
    await silent.waitForLine(/ 001 /);
    for (let i = 0; i < 3; i++) {
      const ping = await answering.waitForLine(/^PING /, 2000);
      answering.send(`PONG ${ping.slice(5)}\r\n`);
    }
    expect(await silent.waitForLine(/^PING /)).toMatch(/^PING :?\d+$/);
    expect(await silent.waitForLine(/^ERROR/, 2000)).toBe("ERROR :Closing Link: Ping timeout");
    await silent.waitClosed();
    expect(answering.ended).toBe(false);
    answering.destroy();
  });

  test("a client over the rate gets 263 RPL_TRYAGAIN, and one that floods is closed with ERROR Excess flood", async () => {
    const watcher = await TestClient.register(server.port, "flood-watch");
    const flooder = await TestClient.connect(ircPort);
    flooder.send("NICK flooder\r\nUSER f 0 * :F\r\n");
    await flooder.waitForLine(/ 366 /);
    flooder.send(Array.from({ length: 30 }, (_, i) => `PRIVMSG #lobby :spam ${i}\r\n`).join(""));
    expect(await flooder.waitForLine(/ 263 /)).toMatch(/^:tcpchat 263 flooder PRIVMSG :Please wait a while and try again/);
    expect(await flooder.waitForLine(/^ERROR/)).toBe("ERROR :Closing Link: Excess flood");
    await flooder.waitClosed();
    expect(await watcher.waitFor((f) => f.type === "leave" && f.nick === "flooder")).toMatchObject({ reason: "flood" });
    watcher.destroy();
  });
});

describe.each(SERVER_RUNTIMES)("IRC slow consumer (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "0", "--write-timeout", "1s"]);
  });
  afterAll(() => server.stop());

  test("an IRC client that stops reading is closed as a slow consumer; the others see it QUIT and go on", async () => {
    const sender = await TestClient.register(server.port, "loud");
    const watcher = await rawIrc(server.port, "watcher2");
    const sleeper = await rawIrc(server.port, "sleeper");
    sleeper.socket.pause();
    const text = "z".repeat(4000);
    let quit: string | undefined;
    // Bursts well under max_pending for the readers, until the sleeper's socket and queue are full.
    for (let burst = 0; burst < 100 && quit === undefined; burst++) {
      for (let i = 0; i < 49; i++) sender.send({ type: "msg", room: "lobby", text });
      await sender.request({ type: "msg", room: "lobby", text }, 10_000);
      quit = watcher.lines.find((l) => /sleeper.* QUIT/.test(l));
      sender.clear();
      watcher.clear();
    }
    expect(quit).toBe(":sleeper!sleeper@tcpchat QUIT :Slow consumer (send queue exceeded)");
    await server.waitForLog('"reason":"slow_consumer"');
    sender.send({ type: "msg", room: "lobby", text: "still flowing" });
    await watcher.waitForLine(/still flowing/, 5000);
    sender.destroy();
    watcher.destroy();
    sleeper.destroy();
  }, 30_000);
});
