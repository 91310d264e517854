/**
 * IRC CHATHISTORY (IRCv3 draft/chathistory) against a real server on each
 * runtime, over raw sockets so that every line is checked: each subcommand by
 * msgid and by timestamp, limits, targets without history or access, paging
 * through 300 messages, labeled-response, and a JSON user's messages read
 * back with the msgid IRC clients saw live.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { IrcTestClient } from "../support/irc_client.ts";

const CAPS = "batch server-time message-tags labeled-response draft/chathistory";

/** One message of a chathistory batch. */
interface Entry {
  text: string;
  msgid: string;
  time: string;
  from: string;
}

/** What a CHATHISTORY command got: the batch's messages, or the FAIL line. */
interface Answer {
  msgs: Entry[];
  fail?: string;
  /** Every line of the answer. */
  lines: string[];
}

/** An IRC user on a raw socket, registered with `caps`, in #lobby. */
async function ircUser(port: number, nick: string, caps = CAPS): Promise<TestClient> {
  const client = await TestClient.connect(port);
  client.send(`CAP LS 302\r\nCAP REQ :${caps}\r\nNICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\nCAP END\r\n`);
  await client.waitForLine(/ 366 .*#lobby/);
  return client;
}

/** Sends a CHATHISTORY command and reads its answer: a chathistory batch (ended by its BATCH -) or a FAIL. */
async function chathistory(client: TestClient, args: string): Promise<Answer> {
  client.send(`CHATHISTORY ${args}\r\n`);
  const lines: string[] = [];
  const msgs: Entry[] = [];
  let batch: string | null = null;
  for (;;) {
    const line = await client.nextLine();
    lines.push(line);
    if (/ FAIL CHATHISTORY /.test(line)) return { msgs, fail: line.replace(/^@\S+ /, ""), lines };
    const open = / BATCH \+(\S+) chathistory /.exec(line);
    if (open) batch = open[1];
    else if (batch !== null && line.endsWith(` BATCH -${batch}`)) return { msgs, lines };
    const message = /^@(\S+) :([^!]+)!\S+ PRIVMSG \S+ :(.*)$/.exec(line);
    if (message) {
      const tags = Object.fromEntries(message[1].split(";").map((t) => t.split("=") as [string, string]));
      expect(tags.batch).toBe(batch!);
      msgs.push({ text: message[3], msgid: tags.msgid, time: tags.time, from: message[2] });
    }
  }
}

const texts = (answer: Answer) => answer.msgs.map((m) => m.text);
const range = (from: number, to: number, prefix: string) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

describe.each(SERVER_RUNTIMES)("IRC CHATHISTORY (%s)", (runtime) => {
  let server: ChatServerProcess;
  let alice: TestClient;
  /** The 20 messages of #twenty, as LATEST returns them. */
  let all: Entry[];

  beforeAll(async () => {
    server = await startChatServer(runtime, ["--rate-per-s", "1000", "--burst", "1000", "--history", "500"]);
    alice = await ircUser(server.port, "alice");
    alice.send(`JOIN #twenty\r\n${range(1, 20, "t").map((t) => `PRIVMSG #twenty :${t}\r\n`).join("")}`);
    await alice.waitForLine(/ 366 alice #twenty /);
    // Lines are handled in order: the history below already holds all 20.
    all = (await chathistory(alice, "LATEST #twenty * 100")).msgs;
  });
  afterAll(() => {
    alice?.destroy();
    server.stop();
  });

  test("LATEST * returns the newest messages in a chathistory batch, oldest first, each with time and msgid", async () => {
    expect(all.map((m) => m.text)).toEqual(range(1, 20, "t"));
    expect(new Set(all.map((m) => m.msgid)).size).toBe(20);
    for (const m of all) expect(m.from).toBe("alice");
    const times = all.map((m) => Date.parse(m.time));
    expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]))).toBe(true);
    const latest = await chathistory(alice, "LATEST #twenty * 3");
    expect(latest.lines[0]).toMatch(/^:\S+ BATCH \+\S+ chathistory #twenty$/);
    expect(texts(latest)).toEqual(["t18", "t19", "t20"]);
    expect(latest.msgs.map((m) => m.msgid)).toEqual(all.slice(17).map((m) => m.msgid));
  });

  test("by msgid: LATEST after, BEFORE, AFTER, AROUND and BETWEEN both ways, the reference never repeated", async () => {
    const id = (n: number) => `msgid=${all[n - 1].msgid}`;
    expect(texts(await chathistory(alice, `LATEST #twenty ${id(17)} 10`))).toEqual(range(18, 20, "t"));
    expect(texts(await chathistory(alice, `LATEST #twenty ${id(5)} 2`))).toEqual(["t19", "t20"]);
    expect(texts(await chathistory(alice, `BEFORE #twenty ${id(10)} 3`))).toEqual(range(7, 9, "t"));
    expect(texts(await chathistory(alice, `BEFORE #twenty ${id(2)} 5`))).toEqual(["t1"]);
    expect(texts(await chathistory(alice, `BEFORE #twenty ${id(1)} 5`))).toEqual([]);
    expect(texts(await chathistory(alice, `AFTER #twenty ${id(10)} 3`))).toEqual(range(11, 13, "t"));
    expect(texts(await chathistory(alice, `AFTER #twenty ${id(20)} 3`))).toEqual([]);
    expect(texts(await chathistory(alice, `AROUND #twenty ${id(10)} 5`))).toEqual(range(8, 12, "t"));
    expect(texts(await chathistory(alice, `AROUND #twenty ${id(10)} 1`))).toEqual(["t10"]);
    // Near either end the window slides to stay full.
    expect(texts(await chathistory(alice, `AROUND #twenty ${id(20)} 5`))).toEqual(range(16, 20, "t"));
    expect(texts(await chathistory(alice, `AROUND #twenty ${id(1)} 5`))).toEqual(range(1, 5, "t"));
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${id(5)} ${id(9)} 100`))).toEqual(range(6, 8, "t"));
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${id(5)} ${id(15)} 2`))).toEqual(["t6", "t7"]);
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${id(15)} ${id(5)} 2`))).toEqual(["t13", "t14"]);
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${id(9)} ${id(5)} 100`))).toEqual(range(6, 8, "t"));
  });

  test("by timestamp: the same windows, messages sent at the reference's time counted on neither side", async () => {
    const ms = all.map((m) => Date.parse(m.time));
    const at = (t: number) => `timestamp=${new Date(t).toISOString()}`;
    const sentWhere = (keep: (t: number) => boolean) => all.filter((_, i) => keep(ms[i])).map((m) => m.text);
    const t = ms[9]; // t10's time (others may share the millisecond)
    expect(texts(await chathistory(alice, `BEFORE #twenty ${at(t)} 100`))).toEqual(sentWhere((x) => x < t));
    expect(texts(await chathistory(alice, `AFTER #twenty ${at(t)} 100`))).toEqual(sentWhere((x) => x > t));
    expect(texts(await chathistory(alice, `LATEST #twenty ${at(t)} 100`))).toEqual(sentWhere((x) => x > t));
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${at(ms[0] - 1)} ${at(ms[19] + 1)} 100`))).toEqual(range(1, 20, "t"));
    expect(texts(await chathistory(alice, `BETWEEN #twenty ${at(ms[19] + 1)} ${at(ms[0] - 1)} 100`))).toEqual(range(1, 20, "t"));
    expect(texts(await chathistory(alice, `BEFORE #twenty ${at(ms[0])} 100`))).toEqual([]);
    expect(texts(await chathistory(alice, `AFTER #twenty ${at(ms[19])} 100`))).toEqual([]);
    // A time before everything: AFTER starts at the first message; AROUND it takes the oldest.
    expect(texts(await chathistory(alice, `AFTER #twenty ${at(ms[0] - 60_000)} 2`))).toEqual(["t1", "t2"]);
    expect(texts(await chathistory(alice, `AROUND #twenty ${at(ms[0] - 60_000)} 4`))).toEqual(range(1, 4, "t"));
    const around = texts(await chathistory(alice, `AROUND #twenty ${at(t)} 6`));
    expect(around.length).toBe(6);
    expect(around).toEqual(range(Number(around[0].slice(1)), Number(around[0].slice(1)) + 5, "t"));
    // Centred on what was sent at t: t10 itself, or others of its millisecond.
    expect(around.some((text) => ms[Number(text.slice(1)) - 1] === t)).toBe(true);
  });

  test("a limit over CHATHISTORY=100 is capped at 100; 0, words and bad references are INVALID_PARAMS", async () => {
    const bulk = await ircUser(server.port, "bulk");
    bulk.send(`JOIN #bulk\r\n${range(1, 150, "b").map((t) => `PRIVMSG #bulk :${t}\r\n`).join("")}`);
    await bulk.waitForLine(/ 366 bulk #bulk /);
    expect(texts(await chathistory(bulk, "LATEST #bulk * 1000"))).toEqual(range(51, 150, "b"));
    expect((await chathistory(bulk, "LATEST #bulk * 0")).fail).toBe(":tcpchat FAIL CHATHISTORY INVALID_PARAMS LATEST 0 :The limit must be a whole number of at least 1");
    expect((await chathistory(bulk, "LATEST #bulk * ten")).fail).toMatch(/^:tcpchat FAIL CHATHISTORY INVALID_PARAMS LATEST ten :/);
    expect((await chathistory(bulk, "BEFORE #bulk * 10")).fail).toMatch(/^:tcpchat FAIL CHATHISTORY INVALID_PARAMS BEFORE \* :/);
    expect((await chathistory(bulk, "BEFORE #bulk timestamp=yesterday 10")).fail).toMatch(/^:tcpchat FAIL CHATHISTORY INVALID_PARAMS BEFORE timestamp=yesterday :/);
    expect((await chathistory(bulk, "AFTER #bulk msgid=nonsense 10")).fail).toBe(":tcpchat FAIL CHATHISTORY MESSAGE_ERROR AFTER #bulk msgid=nonsense :Unknown msgid");
    // A msgid of another channel, and one from the future of this one.
    expect((await chathistory(bulk, `AFTER #bulk msgid=${all[0].msgid} 10`)).fail).toMatch(/^:tcpchat FAIL CHATHISTORY MESSAGE_ERROR AFTER #bulk :/);
    expect((await chathistory(bulk, "AFTER #bulk msgid=bulk-999-abc 10")).fail).toBe(":tcpchat FAIL CHATHISTORY MESSAGE_ERROR AFTER #bulk :Unknown msgid");
    expect((await chathistory(bulk, "FROB x y 10")).fail).toBe(":tcpchat FAIL CHATHISTORY UNKNOWN_COMMAND FROB :Unknown command");
    expect((await chathistory(bulk, "TARGETS x y 10")).fail).toBe(":tcpchat FAIL CHATHISTORY INVALID_PARAMS TARGETS x :TARGETS takes two timestamp= references");
    expect((await chathistory(bulk, "BETWEEN #bulk *")).fail).toBe(":tcpchat FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN :Missing parameters");
    bulk.destroy();
  });

  test("a channel the client is not in and an unknown channel are INVALID_TARGET; a nick has no history: an empty batch", async () => {
    const bob = await ircUser(server.port, "bob");
    expect((await chathistory(bob, "LATEST #twenty * 10")).fail).toBe(":tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST #twenty :Join the channel to read its history");
    expect((await chathistory(bob, `BEFORE #twenty msgid=${all[5].msgid} 10`)).fail).toMatch(/INVALID_TARGET BEFORE #twenty /);
    expect((await chathistory(bob, "LATEST #nosuchchannel * 10")).fail).toMatch(/INVALID_TARGET LATEST #nosuchchannel /);
    expect((await chathistory(bob, "LATEST #no!such * 10")).fail).toMatch(/INVALID_TARGET LATEST #no!such /);
    const dm = await chathistory(bob, "LATEST alice * 10");
    expect(dm.fail).toBeUndefined();
    expect(dm.lines).toHaveLength(2);
    expect(dm.lines[0]).toMatch(/^:tcpchat BATCH \+\S+ chathistory alice$/);
    // After joining, the same request is answered.
    bob.send("JOIN #twenty\r\n");
    await bob.waitForLine(/ 366 bob #twenty /);
    expect(texts(await chathistory(bob, "LATEST #twenty * 2"))).toEqual(["t19", "t20"]);
    bob.destroy();
  });

  test("TARGETS lists the client's channels with messages between two times, with each one's newest message time", async () => {
    const tara = await ircUser(server.port, "tara");
    tara.send("JOIN #quiet,#busy,#late\r\n");
    await tara.waitForLine(/ 366 tara #late /);
    const start = Date.now() - 1;
    tara.send("PRIVMSG #busy :one\r\nPRIVMSG #late :two\r\nPRIVMSG #busy :three\r\n");
    const times = (await chathistory(tara, "LATEST #busy * 10")).msgs.map((m) => m.time);
    const late = (await chathistory(tara, "LATEST #late * 10")).msgs[0].time;
    const end = Math.max(Date.now(), Date.parse(times[1])) + 1;
    const at = (t: number) => `timestamp=${new Date(t).toISOString()}`;
    tara.send(`CHATHISTORY TARGETS ${at(start)} ${at(end)} 10\r\n`);
    const open = await tara.nextLine();
    expect(open).toMatch(/^:tcpchat BATCH \+(\S+) draft\/chathistory-targets$/);
    const id = /\+(\S+)/.exec(open)![1];
    const listed = [await tara.nextLine(), await tara.nextLine()];
    expect(await tara.nextLine()).toBe(`:tcpchat BATCH -${id}`);
    // #quiet had nothing; #lobby nothing in the window; the order is by newest message time.
    expect(listed.sort()).toEqual([
      `@batch=${id} :tcpchat CHATHISTORY TARGETS #busy ${times[1]}`,
      `@batch=${id} :tcpchat CHATHISTORY TARGETS #late ${late}`,
    ].sort());
    tara.send(`CHATHISTORY TARGETS ${at(end)} ${at(end + 60_000)} 10\r\n`);
    expect(await tara.nextLine()).toMatch(/^:tcpchat BATCH \+\S+ draft\/chathistory-targets$/);
    expect(await tara.nextLine()).toMatch(/^:tcpchat BATCH -\S+$/);
    tara.destroy();
  });

  test("paging back with BEFORE and forward with AFTER through 300 messages returns each exactly once, in order", async () => {
    const pager = await ircUser(server.port, "pager");
    pager.send(`JOIN #pages\r\n${range(1, 300, "p").map((t) => `PRIVMSG #pages :${t}\r\n`).join("")}`);
    await pager.waitForLine(/ 366 pager #pages /);
    let back: Entry[] = (await chathistory(pager, "LATEST #pages * 100")).msgs;
    for (;;) {
      const page = (await chathistory(pager, `BEFORE #pages msgid=${back[0].msgid} 70`)).msgs;
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(70);
      back = [...page, ...back];
    }
    expect(back.map((m) => m.text)).toEqual(range(1, 300, "p"));
    let forward: Entry[] = (await chathistory(pager, `AFTER #pages timestamp=${new Date(Date.parse(back[0].time) - 1).toISOString()} 100`)).msgs;
    for (;;) {
      const page = (await chathistory(pager, `AFTER #pages msgid=${forward.at(-1)!.msgid} 100`)).msgs;
      if (page.length === 0) break;
      forward = [...forward, ...page];
    }
    expect(forward.map((m) => m.msgid)).toEqual(back.map((m) => m.msgid));
    pager.destroy();
  });

  test("irc-framework reads CHATHISTORY and MSGREFTYPES from ISUPPORT and replays the batch as messages with time and msgid", async () => {
    const irc = await IrcTestClient.connect(server.port, "framer", { caps: ["batch", "message-tags", "labeled-response", "draft/chathistory"] });
    expect(irc.client.network.cap.enabled).toContain("draft/chathistory");
    await irc.waitForLine(/ 005 .*CHATHISTORY=100/);
    expect(irc.client.network.options.CHATHISTORY).toBe("100");
    expect(irc.client.network.options.MSGREFTYPES).toBe("msgid,timestamp");
    irc.client.join("#twenty");
    await irc.waitForLine(/ 366 framer #twenty /);
    const replayed: Record<string, unknown>[] = [];
    irc.client.on("privmsg", (event) => replayed.push(event));
    const ended = new Promise<Record<string, unknown>>((resolve) => irc.client.on("batch end chathistory", resolve));
    // Labelled too: irc-framework drops the messages of a batch nested in another, so none must be.
    irc.send(`@label=f1 CHATHISTORY BEFORE #twenty msgid=${all[3].msgid} 2`);
    const batch = await ended;
    expect(batch.params).toEqual(["#twenty"]);
    expect(replayed.map((e) => e.message)).toEqual(["t2", "t3"]);
    expect(replayed.map((e) => (e.tags as Record<string, string>).msgid)).toEqual([all[1].msgid, all[2].msgid]);
    expect(replayed.map((e) => e.time)).toEqual([Date.parse(all[1].time), Date.parse(all[2].time)]);
    expect(replayed.every((e) => (e.batch as { type: string }).type === "chathistory")).toBe(true);
    irc.client.quit("done");
  });

  test("a JSON user's messages come back with the msgid and time IRC clients saw live; labelled, the batch start carries the label", async () => {
    const json = await TestClient.register(server.port, "jason");
    json.send({ type: "join", room: "mixed" });
    await json.waitFor((f) => f.type === "room");
    const carol = await ircUser(server.port, "carol");
    carol.send("JOIN #mixed\r\n");
    await carol.waitForLine(/ 366 carol #mixed /);
    await json.waitFor((f) => f.type === "join" && f.nick === "carol");
    json.send({ type: "msg", room: "mixed", text: "hello from json" });
    json.send({ type: "msg", room: "mixed", text: "/me waves" });
    const live1 = await carol.waitForLine(/PRIVMSG #mixed :hello from json/);
    const live2 = await carol.waitForLine(/PRIVMSG #mixed :\x01ACTION waves\x01/);
    carol.send("@label=h1 CHATHISTORY LATEST #mixed * 10\r\n");
    const lines = [await carol.nextLine()];
    while (!/^:\S+ BATCH -/.test(lines.at(-1)!)) lines.push(await carol.nextLine());
    // The chathistory batch is the whole response: its start carries the label, nothing is nested.
    expect(lines[0]).toMatch(/^@label=h1 :tcpchat BATCH \+(H\w+) chathistory #mixed$/);
    const id = /\+(H\w+)/.exec(lines[0])![1];
    // The same tags as live, plus the batch.
    const strip = (line: string) => line.replace(/^@/, "").split(" ")[0].split(";").filter((t) => !t.startsWith("batch=")).sort().join(";");
    expect(lines[1]).toContain(`@batch=${id};`);
    expect(strip(lines[1])).toBe(strip(live1));
    expect(lines[1].slice(lines[1].indexOf(" :"))).toBe(live1.slice(live1.indexOf(" :")));
    expect(strip(lines[2])).toBe(strip(live2));
    expect(lines[2]).toEndWith(":jason!jason@tcpchat PRIVMSG #mixed :\x01ACTION waves\x01");
    expect(lines[3]).toBe(`:tcpchat BATCH -${id}`);
    expect(lines).toHaveLength(4);
    // A labelled FAIL carries the label itself.
    carol.send("@label=h2 CHATHISTORY LATEST #twenty * 10\r\n");
    expect(await carol.nextLine()).toMatch(/^@label=h2 :tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST #twenty /);
    carol.destroy();
    json.destroy();
  });
});
