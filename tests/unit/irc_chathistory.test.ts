/**
 * IRC CHATHISTORY pieces: msgids and message references read back exactly,
 * every subcommand planned as one seq window, and the whole command on a
 * hub with no sockets (timestamps resolved through the hub's lookup).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { listTargets, parseChathistory, parseTargets, planChathistory } from "../../lib/dialect/irc/chathistory.ts";
import { msgidOf, parseMsgid, parseMsgRef } from "../../lib/dialect/irc/msgref.ts";
import { RoomHistory } from "../../lib/hub/room_history.ts";
import { utf8Length } from "../../lib/dialect/irc/message.ts";
import { makeIrcHub, registerIrc } from "../support/irc_hub.ts";

describe("msgids and message references", () => {
  test("a msgid names its room, seq and send time, also for rooms with dashes and dots", () => {
    for (const msg of [{ room: "lobby", seq: 1, ts: 0 }, { room: "a-b-1", seq: 300, ts: 1_700_000_000_123 }, { room: "x.y", seq: 2 ** 40, ts: 5 }]) {
      expect(parseMsgid(msgidOf(msg))).toEqual(msg);
    }
  });

  test("msgids this server never made are refused", () => {
    for (const bad of ["", "lobby", "lobby-0-1", "lobby-x-1", "-1-1", "lobby-1-", "lobby-1-ZZ", "lobby-01-1", "lobby-99999999999999999-1"]) {
      expect(parseMsgid(bad)).toBeNull();
    }
  });

  test("msgid= and timestamp= references, * only for LATEST, anything else invalid", () => {
    expect(parseMsgRef("msgid=lobby-7-abc")).toEqual({ kind: "msgid", msgid: { room: "lobby", seq: 7, ts: parseInt("abc", 36) } });
    expect(parseMsgRef("msgid=nonsense")).toBe("unknown_msgid");
    expect(parseMsgRef("timestamp=2026-01-02T03:04:05.678Z")).toEqual({ kind: "timestamp", ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678) });
    // Finer than milliseconds is cut, never rounded up; offsets are honoured.
    expect(parseMsgRef("timestamp=2026-01-02T03:04:05.6789Z")).toEqual({ kind: "timestamp", ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678) });
    expect(parseMsgRef("timestamp=2026-01-02T05:04:05+02:00")).toEqual({ kind: "timestamp", ts: Date.UTC(2026, 0, 2, 3, 4, 5) });
    expect(parseMsgRef("*", true)).toEqual({ kind: "star" });
    for (const bad of ["*", "timestamp=yesterday", "timestamp=2026-01-02", "timestamp=2026-13-45T99:00:00Z", "time=2026-01-02T03:04:05Z", "lobby-1-1", "msgid"]) {
      expect(parseMsgRef(bad)).toBe("invalid");
    }
  });
});

describe("CHATHISTORY commands", () => {
  test("parameters: unknown subcommand, missing parameters, bad limit, limit capped at 100", () => {
    expect(parseChathistory(["FROB", "a", "b", "1"])).toMatchObject({ code: "UNKNOWN_COMMAND", params: ["FROB"] });
    expect(parseChathistory([])).toMatchObject({ code: "NEED_MORE_PARAMS" });
    expect(parseChathistory(["BETWEEN", "#a", "*", "10"])).toMatchObject({ code: "NEED_MORE_PARAMS", params: ["BETWEEN"] });
    expect(parseChathistory(["BEFORE", "#a", "*", "10"])).toMatchObject({ code: "INVALID_PARAMS" });
    expect(parseChathistory(["latest", "#a", "*", "0"])).toMatchObject({ code: "INVALID_PARAMS", params: ["LATEST", "0"] });
    expect(parseChathistory(["LATEST", "#a", "*", "-5"])).toMatchObject({ code: "INVALID_PARAMS" });
    expect(parseChathistory(["latest", "#a", "*", "5000"])).toEqual({ sub: "LATEST", target: "#a", refs: [{ kind: "star" }], limit: 100 });
  });

  // Seq n was sent at time 1000 + 10n: 1..50.
  const history = new RoomHistory(100);
  for (let seq = 1; seq <= 50; seq++) history.push({ type: "msg", room: "r", from: "a", text: "x", seq, ts: 1000 + 10 * seq });
  const seqAt = (ts: number) => history.lastSeqAtOrBefore(ts);
  const plan = (...params: string[]) => {
    const command = parseChathistory(params);
    if ("code" in command) throw new Error(command.code);
    return planChathistory(command, "r", seqAt);
  };
  const id = (seq: number) => `msgid=${msgidOf({ room: "r", seq, ts: 1000 + 10 * seq })}`;
  const at = (ts: number) => `timestamp=${new Date(ts).toISOString()}`;

  test("a timestamp falls between the messages sent before and after it", () => {
    expect(seqAt(0)).toBe(0);
    expect(seqAt(1100)).toBe(10);
    expect(seqAt(1105)).toBe(10);
    expect(seqAt(99_999)).toBe(50);
  });

  test("each subcommand is one history window", () => {
    expect(plan("LATEST", "#r", "*", "5")).toMatchObject({ query: { limit: 5 }, keepAbove: 0 });
    expect(plan("LATEST", "#r", id(47), "5")).toMatchObject({ query: { limit: 5 }, keepAbove: 47 });
    expect(plan("BEFORE", "#r", id(20), "5")).toMatchObject({ query: { before: 20, limit: 5 }, namedSeq: 20 });
    expect(plan("AFTER", "#r", id(20), "5")).toMatchObject({ query: { after: 20, limit: 5 } });
    // Exactly at a message's time: BEFORE excludes it, AFTER too.
    expect(plan("BEFORE", "#r", at(1200), "5")).toMatchObject({ query: { before: 20 } });
    expect(plan("AFTER", "#r", at(1200), "5")).toMatchObject({ query: { after: 20 } });
    expect(plan("BEFORE", "#r", at(1205), "5")).toMatchObject({ query: { before: 21 } });
    expect(plan("AFTER", "#r", at(1205), "5")).toMatchObject({ query: { after: 20 } });
    // AROUND a msgid: 5 messages from 18 to 22.
    expect(plan("AROUND", "#r", id(20), "5")).toMatchObject({ query: { before: 23, limit: 5 } });
    expect(plan("AROUND", "#r", id(2), "10")).toMatchObject({ query: { before: 11, limit: 10 } });
    // AROUND a time between two messages: 2 sent before it, 2 after; at a message's time, centred on it.
    expect(plan("AROUND", "#r", at(1205), "4")).toMatchObject({ query: { before: 23, limit: 4 } });
    expect(plan("AROUND", "#r", at(1200), "3")).toMatchObject({ query: { before: 22, limit: 3 } });
    expect(plan("BETWEEN", "#r", id(10), id(20), "100")).toMatchObject({ query: { after: 10, before: 20 }, keepAbove: 0 });
    expect(plan("BETWEEN", "#r", id(20), id(10), "3")).toMatchObject({ query: { before: 20, limit: 3 }, keepAbove: 10 });
    expect(plan("BETWEEN", "#r", at(1100), at(1200), "100")).toMatchObject({ query: { after: 10, before: 20 } });
  });

  test("TARGETS lists the channels with messages strictly between two times, oldest first, counted from the first time's side", () => {
    const latest: Record<string, number[]> = { "#a": [100, 200, 300], "#b": [150], "#c": [], "#d": [250, 400] };
    const at = (channel: string, ts: number) => latest[channel].filter((t) => t <= ts).at(-1);
    const list = (...params: string[]) => {
      const command = parseTargets(["TARGETS", ...params]);
      if ("code" in command) throw new Error(command.code);
      return listTargets(command, Object.keys(latest), at);
    };
    const t = (ms: number) => `timestamp=${new Date(ms).toISOString()}`;
    expect(list(t(0), t(1000), "10")).toEqual([{ target: "#b", ts: 150 }, { target: "#a", ts: 300 }, { target: "#d", ts: 400 }]);
    expect(list(t(100), t(300), "10")).toEqual([{ target: "#b", ts: 150 }, { target: "#a", ts: 200 }, { target: "#d", ts: 250 }]);
    expect(list(t(0), t(1000), "1")).toEqual([{ target: "#b", ts: 150 }]);
    expect(list(t(1000), t(0), "1")).toEqual([{ target: "#d", ts: 400 }]);
    expect(list(t(401), t(1000), "10")).toEqual([]);
    expect(parseTargets(["TARGETS", "*", t(0), "10"])).toMatchObject({ code: "INVALID_PARAMS", params: ["TARGETS", "*"] });
    expect(parseTargets(["TARGETS", "msgid=a-1-1", t(0), "10"])).toMatchObject({ code: "INVALID_PARAMS" });
    expect(parseTargets(["TARGETS", t(0), t(1), "0"])).toMatchObject({ code: "INVALID_PARAMS" });
    expect(parseTargets(["TARGETS", t(0), t(1)])).toMatchObject({ code: "NEED_MORE_PARAMS", params: ["TARGETS"] });
  });

  test("a msgid of another channel is refused", () => {
    const command = parseChathistory(["BEFORE", "#other", id(3), "5"]);
    if ("code" in command) throw new Error(command.code);
    expect(planChathistory(command, "other", seqAt)).toMatchObject({ code: "MESSAGE_ERROR" });
  });
});

describe("CHATHISTORY on a hub", () => {
  test("a member gets a labelled chathistory batch with time and msgid tags; others and bad targets get FAIL", () => {
    const { connect } = makeIrcHub();
    const alice = connect("batch server-time message-tags labeled-response draft/chathistory");
    registerIrc(alice, "alice");
    for (let i = 1; i <= 5; i++) alice.line(`PRIVMSG #lobby :m${i}`);
    alice.writes.length = 0;
    alice.line("@label=q1 CHATHISTORY LATEST #lobby * 2");
    const lines = alice.lines();
    // The chathistory batch is the whole response, so its start carries the label (no nested batch).
    expect(lines[0]).toMatch(/^@label=q1 :tcpchat BATCH \+(H\w+) chathistory #lobby$/);
    expect(lines[1]).toMatch(/^@batch=H\w+;time=\S+;msgid=lobby-4-\w+ :alice!alice@tcpchat PRIVMSG #lobby :m4$/);
    expect(lines[2]).toMatch(/msgid=lobby-5-\w+ :alice!alice@tcpchat PRIVMSG #lobby :m5$/);
    expect(lines[3]).toMatch(/^:tcpchat BATCH -H\w+$/);
    expect(lines.length).toBe(4);

    // By timestamp: the time of m2 (AFTER excludes it).
    const m2 = /time=([^;]+)/.exec(lines[1])![1]; // m4's time; m2 was sent 2 ms earlier on this clock
    const t2 = new Date(Date.parse(m2) - 2).toISOString();
    alice.writes.length = 0;
    alice.line(`CHATHISTORY AFTER #lobby timestamp=${t2} 100`);
    expect(alice.lines().filter((l) => / PRIVMSG /.test(l)).map((l) => l.split(" :").at(-1))).toEqual(["m3", "m4", "m5"]);

    const bob = connect("batch draft/chathistory");
    registerIrc(bob, "bob");
    bob.line("PART #lobby");
    bob.writes.length = 0;
    bob.line("CHATHISTORY LATEST #lobby * 10");
    bob.line("CHATHISTORY LATEST #nowhere * 10");
    bob.line("CHATHISTORY LATEST #bad!name * 10");
    bob.line("CHATHISTORY LATEST alice * 10");
    bob.line("CHATHISTORY LATEST bad!nick * 10");
    const out = bob.lines();
    expect(out[0]).toBe(":tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST #lobby :Join the channel to read its history");
    expect(out[1]).toBe(":tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST #nowhere :Join the channel to read its history");
    expect(out[2]).toBe(":tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST #bad!name :No such channel or nick");
    // No direct-message history is kept: an empty batch.
    expect(out[3]).toMatch(/^:tcpchat BATCH \+(\S+) chathistory alice$/);
    expect(out[4]).toMatch(/^:tcpchat BATCH -\S+$/);
    expect(out[5]).toBe(":tcpchat FAIL CHATHISTORY INVALID_TARGET LATEST bad!nick :No such channel or nick");
  });
});

describe("CHATHISTORY and the hub's rules", () => {
  test("each CHATHISTORY spends one rate token, as a history frame does: over the limit it is FAIL MESSAGE_ERROR rate_limited", () => {
    const { connect } = makeIrcHub({ rate_per_s: 1, burst: 4, flood_strikes: 100 });
    const peer = connect("batch draft/chathistory");
    registerIrc(peer, "dora");
    for (let i = 0; i < 5; i++) peer.line("CHATHISTORY LATEST #lobby * 10");
    // A DM target has no history to read and spends nothing.
    peer.line("CHATHISTORY LATEST someone * 10");
    const lines = peer.lines();
    expect(lines.filter((l) => / BATCH \+\S+ chathistory #lobby$/.test(l))).toHaveLength(4);
    const fails = lines.filter((l) => / FAIL /.test(l));
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatch(/^:tcpchat FAIL CHATHISTORY MESSAGE_ERROR LATEST #lobby rate_limited :Messages could not be retrieved: too many requests, try again in \d+ ms$/);
    expect(lines.filter((l) => / BATCH \+\S+ chathistory someone$/.test(l))).toHaveLength(1);
  });

  test("pages cut short by the byte cap still page through every message exactly once", () => {
    const { connect } = makeIrcHub({ snapshot_bytes: 3_000, history: 1_000 });
    const peer = connect("batch message-tags draft/chathistory");
    registerIrc(peer, "pat");
    // 120 messages of 50-400 bytes: a page of 100 would be far over 3,000 bytes.
    for (let i = 1; i <= 120; i++) peer.line(`PRIVMSG #lobby :${i} ${"x".repeat(50 * (1 + (i % 8)))}`);
    const page = (command: string) => {
      peer.writes.length = 0;
      peer.line(command);
      return peer.lines().filter((l) => / PRIVMSG /.test(l)).map((l) => ({ n: Number(l.split(" :").at(-1)!.split(" ")[0]), id: /msgid=([^; ]+)/.exec(l)![1] }));
    };
    let got = page("CHATHISTORY LATEST #lobby * 100");
    expect(got.length).toBeLessThan(100);
    for (let pages = 0; pages < 200; pages++) {
      const older = page(`CHATHISTORY BEFORE #lobby msgid=${got[0].id} 100`);
      if (older.length === 0) break;
      got = [...older, ...got];
    }
    expect(got.map((m) => m.n)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  test("at most 8 CHATHISTORY answers may be awaited at once; the next is FAIL MESSAGE_ERROR busy", () => {
    const { hub, connect } = makeIrcHub({ history: 2 });
    const peer = connect("batch draft/chathistory");
    registerIrc(peer, "slow");
    for (let i = 1; i <= 5; i++) peer.line(`PRIVMSG #lobby :m${i}`);
    hub.historySource = { page: () => new Promise(() => {}) }; // a store that never answers
    peer.writes.length = 0;
    for (let i = 0; i < 9; i++) peer.line("CHATHISTORY AFTER #lobby msgid=lobby-1-0 10");
    expect(peer.lines()).toEqual([":tcpchat FAIL CHATHISTORY MESSAGE_ERROR AFTER #lobby busy :Too many CHATHISTORY requests waiting for an answer"]);
  });

  test("the hub turns a time into a seq for members only", () => {
    const { hub, connect } = makeIrcHub();
    const member = connect();
    registerIrc(member, "mem");
    for (let i = 1; i <= 3; i++) member.line(`PRIVMSG #lobby :x${i}`);
    const outsider = connect("batch");
    registerIrc(outsider, "out");
    outsider.line("PART #lobby");
    const far = 9_999_999_999_999;
    const session = (peer: typeof member) => peer.irc.host.session as Parameters<typeof hub.historyAt>[0];
    expect(hub.historyAt(session(member), "lobby", far)).toEqual({ seq: 3, ts: expect.any(Number) });
    expect(hub.historyAt(session(member), "lobby", 0)).toEqual({ seq: 0, ts: undefined });
    expect(hub.historyAt(session(outsider), "lobby", far)).toBeNull();
    expect(hub.historyAt(session(member), "nowhere", far)).toBeNull();
    outsider.writes.length = 0;
    outsider.line(`CHATHISTORY BEFORE #lobby timestamp=${new Date(far).toISOString()} 10`);
    expect(outsider.lines()).toEqual([":tcpchat FAIL CHATHISTORY INVALID_TARGET BEFORE #lobby :Join the channel to read its history"]);
  });

  test("an answer from a slow history store comes after the command, still labelled (no ACK before it)", async () => {
    const { hub, connect } = makeIrcHub({ history: 3 });
    const peer = connect("batch server-time message-tags labeled-response draft/chathistory");
    registerIrc(peer, "erin");
    for (let i = 1; i <= 10; i++) peer.line(`PRIVMSG #lobby :s${i}`);
    // Memory keeps s8-s10; older pages come from the "store", after a delay.
    const older = (seq: number) => ({ type: "msg" as const, room: "lobby", from: "erin", text: `s${seq}`, seq, ts: 1_700_000_000_100 + seq });
    hub.historySource = {
      page: (_room, query) =>
        new Promise((resolve) =>
          setTimeout(() => {
            const msgs = [];
            for (let seq = Math.max(1, (query.before ?? 11) - query.limit); seq < (query.before ?? 11); seq++) msgs.push(older(seq));
            resolve({ msgs, more: false });
          }, 5)
        ),
    };
    peer.writes.length = 0;
    const eight = msgidFromLatest(hub, peer);
    peer.writes.length = 0;
    peer.line(`@label=old CHATHISTORY BEFORE #lobby msgid=${eight} 3`);
    peer.line("@label=new CHATHISTORY LATEST #lobby * 1");
    // The memory answer is written at once; the store's when it arrives.
    expect(peer.lines()[0]).toMatch(/^@label=new /);
    expect(peer.lines().join("\n")).not.toContain("label=old");
    expect(peer.lines().join("\n")).toContain("PRIVMSG #lobby :s10");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = peer.lines().slice(peer.lines().findIndex((l) => l.startsWith("@label=old")));
    expect(late[0]).toMatch(/^@label=old :tcpchat BATCH \+H\w+ chathistory #lobby$/);
    expect(late.filter((l) => / PRIVMSG /.test(l)).map((l) => l.split(" :").at(-1))).toEqual(["s5", "s6", "s7"]);
  });
});

/** The msgid of s8, the oldest message memory holds, read from a LATEST. */
function msgidFromLatest(_hub: unknown, peer: ReturnType<ReturnType<typeof makeIrcHub>["connect"]>): string {
  peer.line("CHATHISTORY LATEST #lobby * 3");
  const line = peer.lines().find((l) => / PRIVMSG #lobby :s8$/.test(l))!;
  return /msgid=([^; ]+)/.exec(line)![1];
}

describe("CHATHISTORY against a model", () => {
  /** Messages 1..n sent at non-decreasing times (several may share a millisecond). */
  const sent = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 40 }).map((gaps) => {
    let ts = 1_000;
    return gaps.map((gap, i) => ({ seq: i + 1, ts: (ts += gap) }));
  });

  /** What the spec asks, computed naively over the whole list. */
  function model(msgs: { seq: number; ts: number }[], sub: string, refs: ({ seq: number } | { ts: number } | "*")[], limit: number): number[] {
    const before = (r: (typeof refs)[number]) => msgs.filter((m) => r !== "*" && ("seq" in r ? m.seq < r.seq : m.ts < r.ts));
    const after = (r: (typeof refs)[number]) => msgs.filter((m) => r === "*" ? false : "seq" in r ? m.seq > r.seq : m.ts > r.ts);
    const seqs = (list: { seq: number }[]) => list.map((m) => m.seq);
    const [a, b] = refs;
    switch (sub) {
      case "LATEST":
        return seqs((a === "*" ? msgs : after(a)).slice(-limit));
      case "BEFORE":
        return seqs(before(a).slice(-limit));
      case "AFTER":
        return seqs(after(a).slice(0, limit));
      default: { // BETWEEN, same kinds of reference
        const earlier = a !== "*" && b !== "*" && ("seq" in a && "seq" in b ? a.seq < b.seq : "ts" in a && "ts" in b && a.ts < b.ts);
        const inside = msgs.filter((m) => after(earlier ? a : b).includes(m) && before(earlier ? b : a).includes(m));
        return seqs(earlier ? inside.slice(0, limit) : inside.slice(-limit));
      }
    }
  }

  test("LATEST, BEFORE, AFTER and BETWEEN by msgid or timestamp answer what the spec says", () => {
    fc.assert(
      fc.property(
        sent,
        fc.constantFrom("LATEST", "BEFORE", "AFTER", "BETWEEN"),
        fc.boolean(),
        fc.integer({ min: 0, max: 45 }),
        fc.integer({ min: 0, max: 45 }),
        fc.integer({ min: 990, max: 1_200 }),
        fc.integer({ min: 990, max: 1_200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        (msgs, sub, byTime, s1, s2, t1, t2, limit, star) => {
          const history = new RoomHistory(100);
          for (const m of msgs) history.push({ type: "msg", room: "r", from: "a", text: "x", ...m });
          const ref = (s: number, t: number) =>
            byTime ? { raw: `timestamp=${new Date(t).toISOString()}`, model: { ts: t } } : { raw: `msgid=${msgidOf({ room: "r", seq: s, ts: 7 })}`, model: { seq: s } };
          const refs = sub === "BETWEEN" ? [ref(s1 || 1, t1), ref(s2 || 1, t2)] : sub === "LATEST" && star ? [{ raw: "*", model: "*" as const }] : [ref(s1 || 1, t1)];
          const command = parseChathistory([sub, "#r", ...refs.map((r) => r.raw), String(limit)]);
          if ("code" in command) throw new Error(command.code);
          const plan = planChathistory(command, "r", (ts) => history.lastSeqAtOrBefore(ts));
          if ("code" in plan) throw new Error(plan.code);
          const page = history.page({ ...plan.query, maxBytes: Infinity }).msgs.filter((m) => m.seq > plan.keepAbove);
          expect(page.map((m) => m.seq)).toEqual(model(msgs, sub, refs.map((r) => r.model), limit));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("AROUND a msgid returns a full run of `limit` consecutive messages (or all there are) that holds it", () => {
    fc.assert(
      fc.property(sent.filter((m) => m.length > 0), fc.nat(), fc.integer({ min: 1, max: 12 }), (msgs, pick, limit) => {
        const history = new RoomHistory(100);
        for (const m of msgs) history.push({ type: "msg", room: "r", from: "a", text: "x", ...m });
        const target = msgs[pick % msgs.length].seq;
        const command = parseChathistory(["AROUND", "#r", `msgid=${msgidOf({ room: "r", seq: target, ts: 7 })}`, String(limit)]);
        if ("code" in command) throw new Error(command.code);
        const plan = planChathistory(command, "r", () => 0);
        if ("code" in plan) throw new Error(plan.code);
        const seqs = history.page({ ...plan.query, maxBytes: Infinity }).msgs.map((m) => m.seq);
        expect(seqs).toContain(target);
        expect(seqs.length).toBe(Math.min(limit, msgs.length));
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
        // At least half the window on each side of it, where the room has the messages.
        expect(target - seqs[0]).toBeGreaterThanOrEqual(Math.min(target - 1, Math.floor((limit - 1) / 2)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("CHATHISTORY with any parameters", () => {
  test("is answered with exactly one FAIL or one whole chathistory batch, in lines that fit 512 bytes, never throwing", () => {
    const { connect } = makeIrcHub();
    const peer = connect("batch server-time message-tags draft/chathistory");
    registerIrc(peer, "fuzz");
    for (let i = 1; i <= 30; i++) peer.line(`PRIVMSG #lobby :${"é".repeat(i * 7)}`);
    const lastId = /msgid=([^; ]+)/.exec(peer.lines().at(-1) ?? "")?.[1] ?? "lobby-30-0";
    const param = fc.oneof(
      fc.constantFrom("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS", "latest", "*", "#lobby", "#LOBBY", "#nope", "#b@d", "fuzz", "nobody", "0", "1", "100", "101", "-1", "1e3"),
      fc.constantFrom(`msgid=${lastId}`, "msgid=lobby-1-0", "msgid=lobby-99-0", "msgid=dev-1-0", "msgid=", "timestamp=", "timestamp=2023-11-14T22:13:20.010Z", "timestamp=1970-01-01T00:00:00Z", "timestamp=9999-12-31T23:59:59.999Z", "timestamp=2023-11-14T22:13:20.0101Z"),
      fc.string({ maxLength: 12 }).filter((s) => !/[\s\0:]/.test(s) && s !== ""),
    );
    fc.assert(
      fc.property(fc.array(param, { maxLength: 6 }), (params) => {
        peer.writes.length = 0;
        peer.line(`CHATHISTORY ${params.join(" ")}`);
        const lines = peer.lines();
        for (const line of lines) {
          const body = line.startsWith("@") ? line.slice(line.indexOf(" ") + 1) : line;
          expect(utf8Length(body)).toBeLessThanOrEqual(510);
        }
        if (lines.length === 1) {
          expect(lines[0]).toMatch(/^:tcpchat FAIL CHATHISTORY (UNKNOWN_COMMAND|NEED_MORE_PARAMS|INVALID_PARAMS|INVALID_TARGET|MESSAGE_ERROR) /);
        } else {
          const open = /^:tcpchat BATCH \+(\S+) (chathistory (\S+)|draft\/chathistory-targets)$/.exec(lines[0]);
          expect(open).not.toBeNull();
          expect(lines.at(-1)).toBe(`:tcpchat BATCH -${open![1]}`);
          const inner = open![3] === undefined
            ? new RegExp(`^@batch=${open![1]} :tcpchat CHATHISTORY TARGETS #lobby \\d{4}-\\S+Z$`)
            : new RegExp(`^@batch=${open![1]};time=\\S+;msgid=\\S+ :fuzz!fuzz@tcpchat PRIVMSG ${open![3]} :`);
          for (const line of lines.slice(1, -1)) expect(line).toMatch(inner);
          expect(lines.length - 2).toBeLessThanOrEqual(100);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
