/**
 * Accounts, operators and channel modes from IRC: SASL PLAIN, NickServ,
 * draft/account-registration, OPER and KILL, and MODE mapped onto the hub's
 * moderation both ways (an IRC MODE is a JSON `mode`/`role`/`ban` frame, and
 * a JSON change is a MODE line), with bans by IRC mask and 482 for members
 * who are not operators.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { IrcTestClient } from "../support/irc_client.ts";

/** base64 of SASL PLAIN's `authzid NUL authcid NUL password`. */
function plain(account: string, password: string): string {
  return Buffer.from(`\0${account}\0${password}`).toString("base64");
}

describe.each(SERVER_RUNTIMES)("IRC accounts, operators and modes (%s)", (runtime) => {
  let server: ChatServerProcess;
  beforeAll(async () => {
    server = await startChatServer(runtime, ["--operators", "root", "--rate-per-s", "1000", "--burst", "1000"]);
    for (const [nick, password] of [["root", "root-password-1"], ["alice", "alice-password-1"]]) {
      const client = await TestClient.register(server.port, nick);
      await client.request({ type: "register", password });
      client.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  afterAll(() => server.stop());

  /** A raw IRC client registered as `nick` (with `caps` requested first). */
  async function raw(nick: string, caps = ""): Promise<TestClient> {
    const client = await TestClient.connect(server.port);
    if (caps) client.send(`CAP REQ :${caps}\r\nCAP END\r\n`);
    client.send(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
    await client.waitForLine(/ 001 /);
    return client;
  }

  async function whoIn(room: string, nick: string): Promise<Frame | undefined> {
    const json = await TestClient.register(server.port, `w${Math.random().toString(36).slice(2, 8)}`, { defaultRoom: null });
    await json.request({ type: "join", room });
    const who = await json.request({ type: "who", room });
    json.destroy();
    return (who.users as Frame[]).find((u) => u.nick === nick);
  }

  test("irc-framework logs in with SASL PLAIN to an account that is not its nick: 900 and 903, and JSON users see the account", async () => {
    const irc = await IrcTestClient.connect(server.port, "alicephone", {
      account: { account: "alice", password: "alice-password-1" },
      caps: ["extended-join", "account-tag"],
    });
    expect(irc.lines.some((l) => / 900 .* alice :You are now logged in as alice/.test(l))).toBe(true);
    expect(irc.lines.some((l) => / 903 /.test(l))).toBe(true);
    expect(irc.lines.findIndex((l) => / 903 /.test(l))).toBeLessThan(irc.lines.findIndex((l) => / 001 /.test(l)));
    irc.client.join("#saslroom");
    expect(await irc.waitForUntagged(/ JOIN #saslroom/)).toBe(":alicephone!alicephone@tcpchat JOIN #saslroom alice :alicephone realname");
    expect(await whoIn("saslroom", "alicephone")).toMatchObject({ nick: "alicephone", account: "alice", op: true });
    const json = await TestClient.register(server.port, "saslpeer", { defaultRoom: null });
    await json.request({ type: "join", room: "saslroom" });
    json.send({ type: "msg", room: "saslroom", text: "hi" });
    await irc.waitForLine(/PRIVMSG #saslroom :hi/);
    // A logged-in sender's messages carry its account (account-tag); a guest's carry none.
    const reader = await raw("tagreader", "account-tag");
    reader.send("JOIN #saslroom\r\n");
    await reader.waitForLine(/ 366 .*#saslroom/);
    irc.send("PRIVMSG #saslroom :tagged");
    expect(await reader.waitForLine(/PRIVMSG #saslroom :tagged/)).toBe("@account=alice :alicephone!alicephone@tcpchat PRIVMSG #saslroom :tagged");
    json.send({ type: "msg", room: "saslroom", text: "untagged" });
    expect(await reader.waitForLine(/PRIVMSG #saslroom :untagged/)).toBe(":saslpeer!saslpeer@tcpchat PRIVMSG #saslroom :untagged");
    irc.destroy();
    json.destroy();
    reader.destroy();
  });

  test("SASL failures are 904 with the reason (wrong password, unknown account, bad payload), 906 on abort, and registration still completes as a guest", async () => {
    const c = await TestClient.connect(server.port);
    c.send("CAP LS 302\r\n");
    expect(await c.waitForLine(/CAP \* LS/)).toContain("sasl=PLAIN");
    c.send("CAP REQ :sasl\r\nNICK saslfail\r\nUSER s 0 * :S\r\nAUTHENTICATE PLAIN\r\n");
    expect(await c.waitForLine(/^AUTHENTICATE/)).toBe("AUTHENTICATE +");
    c.send(`AUTHENTICATE ${plain("alice", "wrong-password")}\r\n`);
    expect(await c.waitForLine(/ 904 /)).toMatch(/:tcpchat 904 \* :SASL authentication failed: wrong password for alice/);
    c.send(`AUTHENTICATE PLAIN\r\n`);
    await c.waitForLine(/^AUTHENTICATE \+/);
    c.send(`AUTHENTICATE ${plain("nobodyhere", "whatever-pass")}\r\n`);
    expect(await c.waitForLine(/ 904 /)).toContain("there is no account nobodyhere");
    c.send("AUTHENTICATE PLAIN\r\nAUTHENTICATE !!notbase64\r\n");
    expect(await c.waitForLine(/ 904 /)).toContain("not base64");
    c.send("AUTHENTICATE FOO\r\n");
    expect(await c.waitForLine(/ 908 /)).toContain("PLAIN");
    c.send("AUTHENTICATE PLAIN\r\nAUTHENTICATE *\r\n");
    expect(await c.waitForLine(/ 906 /)).toContain("aborted");
    c.send("CAP END\r\n");
    await c.waitForLine(/ 001 saslfail /);
    expect(await whoIn("lobby", "saslfail")).not.toHaveProperty("account");
    c.destroy();
  });

  test("NickServ: REGISTER makes the nick an account, IDENTIFY logs in from another nick, HELP explains; replies are NOTICEs from NickServ; account-notify tells the channel", async () => {
    const watcher = await raw("acctwatch", "account-notify");
    const a = await raw("nsuser");
    a.send("PRIVMSG NickServ :HELP\r\n");
    expect(await a.waitForLine(/NOTICE nsuser :REGISTER/)).toMatch(/^:NickServ!NickServ@services\.tcpchat NOTICE/);
    await a.waitForLine(/NOTICE nsuser :HELP/);
    a.send("PRIVMSG NickServ :REGISTER short\r\n");
    expect(await a.waitForLine(/NickServ.*NOTICE/)).toContain("weak_password");
    a.send("PRIVMSG NickServ :REGISTER ns-password-1\r\n");
    expect(await a.waitForLine(/NickServ.*NOTICE/)).toContain("nsuser is now registered");
    expect(await watcher.waitForLine(/ ACCOUNT /)).toBe(":nsuser!nsuser@tcpchat ACCOUNT nsuser");
    const b = await raw("nsother");
    b.send("NICKSERV IDENTIFY nsuser wrong-password\r\n");
    expect(await b.waitForLine(/NickServ.*NOTICE/)).toContain("unauthorized: wrong password for nsuser");
    b.send("PRIVMSG NickServ :IDENTIFY nsuser ns-password-1\r\n");
    expect(await b.waitForLine(/NickServ.*NOTICE/)).toContain("You are now identified as nsuser");
    expect(await watcher.waitForLine(/ ACCOUNT /)).toBe(":nsother!nsother@tcpchat ACCOUNT nsuser");
    expect(await whoIn("lobby", "nsother")).toMatchObject({ account: "nsuser" });
    a.destroy();
    b.destroy();
    watcher.destroy();
  });

  test("draft/account-registration REGISTER: the nick in use becomes an account; another name, a weak password or before registration FAIL", async () => {
    const early = await TestClient.connect(server.port);
    early.send("CAP LS 302\r\nREGISTER * * early-password-1\r\n");
    expect(await early.waitForLine(/FAIL REGISTER/)).toBe(":tcpchat FAIL REGISTER COMPLETE_CONNECTION_REQUIRED * :Register your nick first, then the account");
    early.destroy();
    const c = await raw("regnick", "draft/account-registration");
    c.send("REGISTER othername * reg-password-1\r\n");
    expect(await c.waitForLine(/FAIL REGISTER/)).toBe(":tcpchat FAIL REGISTER ACCOUNT_NAME_MUST_BE_NICK othername :The account name must be your nick (regnick)");
    c.send("REGISTER * * regnick\r\n");
    expect(await c.waitForLine(/FAIL REGISTER/)).toContain("WEAK_PASSWORD");
    c.send("REGISTER regnick * reg-password-1\r\n");
    expect(await c.waitForLine(/REGISTER SUCCESS/)).toBe(":tcpchat REGISTER SUCCESS regnick :Account created");
    expect(await c.waitForLine(/ 900 /)).toContain("You are now logged in as regnick");
    c.send("REGISTER * * reg-password-2\r\n");
    expect(await c.waitForLine(/FAIL REGISTER/)).toContain("ALREADY_AUTHENTICATED");
    c.destroy();
  });

  test("OPER: 491 for an account that is no operator, 464 for a wrong password, 381 and +o for root; then KILL works", async () => {
    const op = await raw("wannabe");
    op.send("OPER alice alice-password-1\r\n");
    expect(await op.waitForLine(/ 491 /)).toContain("No O-lines");
    op.send("OPER root wrong-password\r\n");
    expect(await op.waitForLine(/ 464 /)).toContain("Password incorrect");
    op.send("KILL alicephone :x\r\n");
    expect(await op.waitForLine(/ 481 /)).toContain("not an IRC operator");
    op.send("OPER root root-password-1\r\n");
    expect(await op.waitForLine(/ 381 /)).toBe(":tcpchat 381 wannabe :You are now an IRC operator");
    expect(await op.waitForLine(/ MODE wannabe/)).toBe(":wannabe!wannabe@tcpchat MODE wannabe +o");
    const victim = await TestClient.register(server.port, "killme");
    op.send("KILL killme :enough\r\n");
    expect(await victim.waitFor((f) => f.type === "bye")).toMatchObject({ reason: "killed" });
    op.send("MODE wannabe\r\n");
    expect(await op.waitForLine(/ 221 /)).toContain("+o");
    // WHOIS tells an operator and the account a nick is logged in to.
    op.send("WHOIS wannabe\r\n");
    expect(await op.waitForLine(/ 313 /)).toBe(":tcpchat 313 wannabe wannabe :is an IRC operator");
    expect(await op.waitForLine(/ 330 /)).toBe(":tcpchat 330 wannabe wannabe root :is logged in as");
    op.destroy();
  });

  test("MODE both ways: IRC +i +t +k +o reach JSON members as mode and role frames; JSON changes reach IRC as MODE lines; 324 and NAMES tell the truth", async () => {
    const irc = await raw("modeop");
    irc.send("JOIN #modes\r\n");
    expect(await irc.waitForLine(/ 353 .*#modes/)).toContain("@modeop");
    const json = await TestClient.register(server.port, "jsonmode", { defaultRoom: null });
    await json.request({ type: "join", room: "modes" });
    irc.send("MODE #modes\r\n");
    expect(await irc.waitForLine(/ 324 /)).toBe(":tcpchat 324 modeop #modes :+nt");
    irc.send("MODE #modes +i-t\r\n");
    expect(await irc.waitForLine(/ MODE #modes/)).toBe(":modeop!modeop@tcpchat MODE #modes +i-t");
    expect(await json.waitFor((f) => f.type === "mode")).toMatchObject({ by: "modeop", modes: { invite_only: true, topic_lock: false, key: false } });
    irc.send("MODE #modes +k sesame\r\n");
    expect(await irc.waitForLine(/ MODE #modes/)).toBe(":modeop!modeop@tcpchat MODE #modes +k sesame");
    expect(await json.waitFor((f) => f.type === "mode")).toMatchObject({ modes: { key: true } });
    irc.send("MODE #modes\r\n");
    expect(await irc.waitForLine(/ 324 /)).toBe(":tcpchat 324 modeop #modes +ikn :*");
    irc.send("MODE #modes +o jsonmode\r\n");
    expect(await json.waitFor((f) => f.type === "role")).toMatchObject({ nick: "jsonmode", op: true, by: "modeop" });
    expect(await irc.waitForLine(/ MODE #modes/)).toBe(":modeop!modeop@tcpchat MODE #modes +o jsonmode");
    // The JSON operator changes modes: IRC sees what changed.
    await json.request({ type: "mode", room: "modes", invite_only: false, key: "", topic_lock: true });
    expect(await irc.waitForLine(/ MODE #modes/)).toBe(":jsonmode!jsonmode@tcpchat MODE #modes +t-ik *");
    await json.request({ type: "deop", room: "modes", nick: "modeop" });
    expect(await irc.waitForLine(/ MODE #modes/)).toBe(":jsonmode!jsonmode@tcpchat MODE #modes -o modeop");
    irc.send("NAMES #modes\r\n");
    const names = await irc.waitForLine(/ 353 .*#modes/);
    expect(names).toContain("@jsonmode");
    expect(names).not.toContain("@modeop");
    // No longer an operator: 482.
    irc.send("MODE #modes +i\r\n");
    expect(await irc.waitForLine(/ 482 /)).toContain("#modes :You're not channel operator");
    irc.send("MODE #modes +o modeop\r\n");
    expect(await irc.waitForLine(/ 482 /)).toContain("#modes");
    irc.send("MODE #modes +x\r\n");
    expect(await irc.waitForLine(/ 472 /)).toContain("x :is an unknown mode char");
    irc.destroy();
    json.destroy();
  });

  test("bans by IRC mask: +b nick!*@* bans the JSON member (KICK and MODE +b), the list is 367/368, -b lifts it; host masks are 696", async () => {
    const irc = await raw("banop");
    irc.send("JOIN #bans\r\n");
    await irc.waitForLine(/ 366 /);
    const eve = await TestClient.register(server.port, "eve", { defaultRoom: null });
    await eve.request({ type: "join", room: "bans" });
    await irc.waitForLine(/eve.* JOIN #bans/);
    irc.send("MODE #bans +b eve!*@*\r\n");
    expect(await irc.waitForLine(/ MODE #bans/)).toBe(":banop!banop@tcpchat MODE #bans +b eve!*@*");
    expect(await irc.waitForLine(/ KICK /)).toContain("KICK #bans eve");
    expect(await eve.waitFor((f) => f.type === "leave")).toMatchObject({ reason: "banned", by: "banop" });
    expect(await eve.request({ type: "join", room: "bans" })).toMatchObject({ type: "error", code: "banned" });
    irc.send("MODE #bans b\r\n");
    expect(await irc.waitForLine(/ 367 /)).toMatch(/^:tcpchat 367 banop #bans eve!\*@\* banop :\d+$/);
    expect(await irc.waitForLine(/ 368 /)).toContain("End of channel ban list");
    irc.send("MODE #bans +b *!*@*\r\n");
    expect(await irc.waitForLine(/ 696 /)).toContain("#bans b *!*@* :tcpchat bans one nick or account");
    irc.send("MODE #bans +b someone!*@1.2.3.4\r\n");
    expect(await irc.waitForLine(/ 696 /)).toContain("shows no hosts");
    irc.send("MODE #bans +b ghost!*@*\r\n");
    expect(await irc.waitForLine(/ 401 /)).toContain("ghost");
    irc.send("MODE #bans -b eve!*@*\r\n");
    expect(await irc.waitForLine(/ MODE #bans/)).toBe(":banop!banop@tcpchat MODE #bans -b eve!*@*");
    expect(await eve.request({ type: "join", room: "bans" })).toMatchObject({ type: "room" });
    // A ban set by a JSON operator reaches the IRC operator as MODE +b with the account as $a:.
    const json = await TestClient.connect(server.port);
    await json.request({ type: "hello", nick: "alice", password: "alice-password-1" });
    await json.request({ type: "join", room: "bans" });
    irc.send("MODE #bans +o alice\r\n");
    await json.waitFor((f) => f.type === "role");
    const mallory = await TestClient.connect(server.port);
    await mallory.request({ type: "hello", nick: "regnick", password: "reg-password-1" });
    await json.request({ type: "ban", room: "bans", nick: "regnick" });
    expect(await irc.waitForLine(/ MODE #bans \+b/)).toBe(":alice!alice@tcpchat MODE #bans +b $a:regnick");
    for (const c of [irc, eve, json, mallory]) c.destroy();
  });

  test("a member who is not an operator gets 482 for each change and the end of the ban list", async () => {
    const owner = await raw("owner482");
    owner.send("JOIN #op482\r\n");
    await owner.waitForLine(/ 366 /);
    const guest = await raw("guest482");
    guest.send("JOIN #op482\r\n");
    expect(await guest.waitForLine(/ 353 .*#op482/)).toMatch(/@owner482/);
    for (const change of ["+t", "+k key", "+o guest482", "-o owner482", "+b owner482!*@*"]) {
      guest.send(`MODE #op482 ${change}\r\n`);
      expect(await guest.waitForLine(/ 482 /)).toContain("#op482");
    }
    guest.send("MODE #op482 +b\r\n");
    expect(await guest.waitForLine(/ 368 /)).toContain("#op482");
    guest.send("WHO #op482\r\n");
    expect(await guest.waitForLine(/ 352 .* owner482 /)).toContain(" H@ ");
    owner.destroy();
    guest.destroy();
  });

  test("more than 5 wrong SASL passwords in a minute are throttled: 904 says to wait, and the right password waits too", async () => {
    const c = await TestClient.connect(server.port);
    c.send("CAP REQ :sasl\r\nNICK throttled\r\nUSER t 0 * :T\r\n");
    // Earlier tests already spent some of this address's wrong guesses: at most 6 more reach the limit.
    const seen: string[] = [];
    for (let i = 0; i < 6 && !seen.some((l) => l.includes("too many")); i++) {
      c.send(`AUTHENTICATE PLAIN\r\nAUTHENTICATE ${plain("root", `wrong-${i}-password`)}\r\n`);
      seen.push(await c.waitForLine(/ 904 /));
    }
    expect(seen.at(-1)).toMatch(/SASL authentication failed: too many wrong passwords; retry in \d+ ms/);
    expect(seen.slice(0, -1).every((l) => l.includes("wrong password for root"))).toBe(true);
    c.send(`AUTHENTICATE PLAIN\r\nAUTHENTICATE ${plain("root", "root-password-1")}\r\n`);
    expect(await c.waitForLine(/ 904 /)).toContain("too many wrong passwords");
    c.destroy();
  });
});
