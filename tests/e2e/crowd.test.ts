/**
 * Crowded rooms against the real server (PROTOCOL section 15): thousands of
 * members in one room cost each member O(1) frames per arrival window, `who`
 * pages through all of them, and a registration storm into the default room
 * leaves honest users answered.
 */
import { describe, expect, test } from "bun:test";
import { ChatClient } from "../../lib/client/chat_client.ts";
import { CLOCK_TICKS_PER_S, ProcStats } from "../../lib/bench/proc_stats.ts";
import { getRuntime } from "../../lib/runtime/mod.ts";
import { type Frame, TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens `count` connections and registers them as `prefix0`, `prefix1`, ...
 * `parallel` at a time; resolves once every one has its welcome.
 */
async function registerMany(port: number, prefix: string, count: number, parallel = 100): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, async (_, i) => {
        const c = await TestClient.connect(port);
        c.send({ type: "hello", nick: `${prefix}${start + i}` });
        return c;
      }),
    );
    await Promise.all(batch.map((c) => c.waitFor((f) => f.type === "welcome", 20_000)));
    clients.push(...batch);
  }
  return clients;
}

/** Waits until a received, unread frame matches, leaving every frame unread. */
async function until(c: TestClient, match: (f: Frame) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let checked = 0; ; await sleep(20)) {
    for (; checked < c.lines.length; checked++) if (match(JSON.parse(c.lines[checked]))) return;
    if (Date.now() > deadline) throw new Error(`no match within ${timeoutMs} ms; last: ${c.lines.at(-1)}`);
  }
}

/** Frames a client has received and not yet read, parsed. */
function drain(c: TestClient): Frame[] {
  const frames = c.lines.map((line) => JSON.parse(line));
  c.clear();
  return frames;
}

describe.each(SERVER_RUNTIMES)("crowded rooms (%s)", (runtime) => {
  test("2,000 members in one room: each gets O(1) frames per arrival window, and who pages list everyone once", async () => {
    const crowdSize = 50;
    const intervalMs = 500;
    await using server = await startChatServer(runtime, [
      "--crowd-size",
      String(crowdSize),
      "--crowd-interval",
      `${intervalMs}ms`,
      "--snapshot-members",
      "20",
    ]);
    const watchers = await registerMany(server.port, "w", 5, 1);
    const started = Date.now();
    const crowd = await registerMany(server.port, "m", 1995);
    const last = crowd.at(-1)!;
    // The newest member's snapshot: capped, itself first, the whole count.
    const snapshot = drain(last).find((f) => f.type === "room")!;
    expect(snapshot.member_count).toBe(2000);
    expect(snapshot.members.length).toBe(20);
    expect(snapshot.members[0]).toBe("m1994");
    // Each watcher learns of every arrival exactly once: one by one below crowd_size, then in summaries.
    await Promise.all(watchers.map((w) => until(w, (f) => f.type === "crowd" && f.member_count === 2000, 10_000)));
    const elapsedMs = Date.now() - started;
    watchers.forEach((w, position) => {
      const frames = drain(w);
      const joins = frames.filter((f) => f.type === "join" && f.nick !== `w${position}`);
      const summaries = [...frames.filter((f) => f.type === "crowd")];
      const told = joins.length + summaries.reduce((sum, f) => sum + f.joined, 0);
      // Own join and snapshot aside, everything later than this watcher arrived:
      expect(told).toBe(2000 - position - 1);
      // O(1) per window: the joins before the room got crowded, and one summary per interval.
      expect(joins.length).toBeLessThanOrEqual(crowdSize);
      expect(summaries.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / intervalMs) + 2);
    });
    // A late member hears nothing per arrival either: at most one summary per interval.
    const lateFrames = drain(crowd[1000]).filter((f) => f.type !== "room" && f.type !== "welcome");
    expect(lateFrames.filter((f) => f.type === "join" && f.nick !== "m1000")).toEqual([]);

    // who paging: every member exactly once, in casefolded order.
    const pager = watchers[0];
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await pager.request({ type: "who", room: "lobby", limit: 300, ...(after ? { after } : {}) });
      expect(page.member_count).toBe(2000);
      expect(page.users.length).toBeLessThanOrEqual(300);
      seen.push(...page.users.map((u: Frame) => u.nick));
      after = page.next;
      if (after === undefined) break;
    }
    expect(seen.length).toBe(2000);
    expect(new Set(seen).size).toBe(2000);
    expect(seen).toEqual([...seen].sort());
    for (const c of [...watchers, ...crowd]) c.destroy();
  }, 60_000);

  test("a registration storm into the default room: pings stay answered and a newcomer is welcomed quickly", async () => {
    // Defaults: crowd_size 500, so most of the storm lands in a crowded lobby.
    await using server = await startChatServer(runtime, []);
    const honest = await TestClient.register(server.port, "honest");
    let worstRttMs = 0;
    let pings = 0;
    let stop = false;
    const pinging = (async () => {
      while (!stop) {
        const sent = Date.now();
        await honest.request({ type: "ping", t: sent }, 10_000);
        worstRttMs = Math.max(worstRttMs, Date.now() - sent);
        pings++;
        await sleep(20);
      }
    })();
    const cpu = new ProcStats(getRuntime(), server.proc.pid!);
    const cpuBefore = (await cpu.cpuTicks())!;
    const storm = registerMany(server.port, "s", 3000, 200);
    await sleep(300);
    const helloAt = Date.now();
    const newcomer = await TestClient.connect(server.port);
    newcomer.send({ type: "hello", nick: "newcomer" });
    await newcomer.waitFor((f) => f.type === "welcome", 10_000);
    const welcomeMs = Date.now() - helloAt;
    const crowd = await storm;
    const cpuS = ((await cpu.cpuTicks())! - cpuBefore) / CLOCK_TICKS_PER_S;
    stop = true;
    await pinging;
    // Each registration costs the server O(1) frames, so the whole storm is 1-2 s of server CPU
    // (measured: bun 1.1 s, node 1.8 s); before the crowd rule it was O(n²) and the storm did not
    // finish within 60 s. CPU time hardly depends on how loaded the machine is, so it carries the
    // O(n) claim; the bound leaves 5x room.
    expect(cpuS).toBeLessThan(10);
    // What a user sees: the honest ping and the newcomer's hello are answered within seconds
    // (measured: under 1 s on an idle machine, up to 2.7 s with the 2 cores shared by a dozen
    // busy processes). Before the crowd rule a ping got no answer within 10 s.
    expect(pings).toBeGreaterThan(3);
    expect(worstRttMs).toBeLessThan(5000);
    expect(welcomeMs).toBeLessThan(5000);
    for (const c of [honest, newcomer, ...crowd]) c.destroy();
  }, 60_000);

  test("text users see the member count and the crowd line; the client library emits crowd and pages who", async () => {
    await using server = await startChatServer(runtime, ["--crowd-size", "3", "--crowd-interval", "200ms", "--snapshot-members", "2"]);
    await registerMany(server.port, "e", 3, 1);
    const person = await TestClient.connect(server.port);
    person.send("Tex\r\n");
    expect(await person.waitForLine("Now in #lobby")).toContain("with Tex, e0 and 2 more (4 members; /who lobby lists them)");
    const client = new ChatClient({ runtime: getRuntime(), host: "127.0.0.1", port: server.port, nick: "lib" });
    const summaries: Frame[] = [];
    client.on("crowd", (f) => summaries.push(f));
    await client.connect();
    await registerMany(server.port, "late", 2, 1);
    expect(await person.waitForLine(/^\* #lobby: \d+ joined, 0 left; \d+ members now$/)).toBeTruthy();
    const deadline = Date.now() + 3000;
    while (!summaries.some((f) => f.member_count === 7) && Date.now() < deadline) await sleep(20);
    expect(summaries.at(-1)).toMatchObject({ type: "crowd", room: "lobby", left: 0, member_count: 7 });
    const nicks: string[] = [];
    for await (const user of client.whoAll("lobby", 2)) nicks.push(user.nick);
    expect(nicks).toEqual(["e0", "e1", "e2", "late0", "late1", "lib", "Tex"]);
    person.send("/who lobby e1\r\n");
    expect(await person.waitForLine("* #lobby (7 members, 5 shown): e2 (online), late0 (online), late1")).toBeTruthy();
    await client.close();
    person.destroy();
  }, 30_000);
});

describe.each(SERVER_RUNTIMES)("crowded channels over IRC (%s)", (runtime) => {
  test("NAMES says how many are not listed, and joins arrive as one NOTICE summary", async () => {
    await using server = await startChatServer(runtime, ["--crowd-size", "2", "--crowd-interval", "100ms", "--snapshot-members", "2"]);
    const early = await registerMany(server.port, "e", 3, 1);
    const irc = await TestClient.connect(server.port);
    irc.send("NICK ircy\r\nUSER ircy 0 * :Ircy\r\n");
    await irc.waitForLine(/ 001 ircy /);
    irc.send("JOIN #lobby\r\n");
    await irc.waitForLine(/ 366 ircy #lobby /); // End of NAMES.
    expect(await irc.waitForLine("NOTICE #lobby")).toMatch(/NOTICE #lobby :#lobby has 4 members; 2 are listed/);
    const late = await registerMany(server.port, "late", 2, 1);
    expect(await irc.waitForLine(/NOTICE #lobby :\d joined, 0 left; 6 members now/, 3000)).toBeTruthy();
    expect(irc.lines.some((l) => / JOIN #lobby/.test(l) && l.startsWith(":late"))).toBe(false);
    for (const c of [...early, ...late, irc]) c.destroy();
  }, 30_000);
});

describe("tcpchat connect in a crowded room", () => {
  test("shows the member count, pages who, and prints crowd summaries", async () => {
    await using server = await startChatServer("bun", ["--crowd-size", "2", "--crowd-interval", "100ms", "--snapshot-members", "2"]);
    const early = await registerMany(server.port, "e", 3, 1);
    const proc = Bun.spawn(
      [binPath("bun"), "main.ts", "connect", `127.0.0.1:${server.port}`, "--nick", "cli", "--no-color"],
      { cwd: REPO_ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" },
    );
    const output = new Response(proc.stdout).text();
    await sleep(1000); // Connected and in the lobby.
    const late = await registerMany(server.port, "late", 2, 1);
    await sleep(500); // A summary goes out.
    proc.stdin.write("/who lobby e1\n");
    proc.stdin.end();
    const stdout = await output;
    expect(await proc.exited).toBe(0);
    expect(stdout).toContain("in #lobby with cli, e0 and 2 more (4 members; /who lobby lists them)");
    expect(stdout).toMatch(/\* #lobby: [12] joined, 0 left; 6 members now/);
    expect(stdout).toContain("* #lobby (6 members, 3 shown): e2 (online), late0 (online), late1 (online)");
    for (const c of [...early, ...late]) c.destroy();
  }, 30_000);
});
