import { describe, expect, test } from "bun:test";
import { noteHistoryPage, parseTextLine, type TextState } from "../../lib/protocol/text_commands.ts";
import { renderTextFrame } from "../../lib/protocol/text_render.ts";
import { TelnetFilter } from "../../lib/protocol/telnet.ts";

const registered: TextState = { registered: true, currentRoom: "lobby" };

describe("text commands", () => {
  test("the first line is the nick, plain or as /nick", () => {
    const fresh = { registered: false, currentRoom: null };
    expect(parseTextLine("alice", fresh)).toEqual({ kind: "frame", frame: { type: "hello", nick: "alice" } });
    expect(parseTextLine("/nick bob", fresh)).toEqual({ kind: "frame", frame: { type: "hello", nick: "bob" } });
    expect(parseTextLine("/join x", fresh)).toMatchObject({ kind: "error", code: "not_registered" });
  });

  test("commands map to the JSON frames", () => {
    const cases: [string, unknown][] = [
      ["/join #dev", { type: "join", room: "dev" }],
      ["/leave", { type: "leave", room: "lobby" }],
      ["/leave dev", { type: "leave", room: "dev" }],
      ["/msg bob hi there", { type: "dm", to: "bob", text: "hi there" }],
      ["/who", { type: "who", room: "lobby" }],
      ["/rooms", { type: "rooms" }],
      ["/away lunch", { type: "status", status: "away", note: "lunch" }],
      ["/back", { type: "status", status: "online" }],
      ["/me waves", { type: "msg", room: "lobby", text: "/me waves" }],
      ["/quit bye all", { type: "quit", reason: "bye all" }],
      ["/nick carol", { type: "nick", nick: "carol" }],
      ["hello world", { type: "msg", room: "lobby", text: "hello world" }],
      ["//etc/passwd is a path", { type: "msg", room: "lobby", text: "/etc/passwd is a path" }],
    ];
    for (const [line, frame] of cases) expect(parseTextLine(line, registered)).toEqual({ kind: "frame", frame } as never);
  });

  test("unknown commands and bad arguments are errors, never messages", () => {
    expect(parseTextLine("/frobnicate", registered)).toMatchObject({ kind: "error", code: "unknown_command" });
    expect(parseTextLine("/join Not A Room", registered)).toMatchObject({ kind: "error", code: "invalid" });
    expect(parseTextLine("/msg bob", registered)).toMatchObject({ kind: "error", code: "invalid" });
    expect(parseTextLine("hi", { registered: true, currentRoom: null })).toMatchObject({ code: "not_in_room" });
  });
});

describe("/history in the text dialect", () => {
  const page = (room: string, seqs: number[], more: boolean) => ({
    type: "history" as const,
    room,
    epoch: "e",
    seq: 50,
    more,
    msgs: seqs.map((seq) => ({ type: "msg" as const, room, from: "ada", text: `m${seq}`, seq, ts: 0 })),
  });

  test("the first /history asks for the newest N; right after one, the N before the oldest shown", () => {
    const state: TextState = { registered: true, currentRoom: "lobby" };
    expect(parseTextLine("/history", state)).toEqual({ kind: "frame", frame: { type: "history", room: "lobby", limit: 20 } });
    noteHistoryPage(state, page("lobby", [31, 32, 33], true));
    expect(parseTextLine("/history 3", state)).toEqual({
      kind: "frame",
      frame: { type: "history", room: "lobby", limit: 3, before: 31 },
    });
    // Reaching the start, or typing anything else, starts over from the newest.
    noteHistoryPage(state, page("lobby", [1, 2], false));
    expect(parseTextLine("/history 3", state)).toMatchObject({ frame: { limit: 3 } });
    expect(parseTextLine("/history 3", state)).not.toMatchObject({ frame: { before: expect.anything() } });
    noteHistoryPage(state, page("lobby", [31], true));
    parseTextLine("hello", state);
    expect(parseTextLine("/history", state)).toEqual({ kind: "frame", frame: { type: "history", room: "lobby", limit: 20 } });
    // Another room's cursor does not apply here.
    noteHistoryPage(state, page("dev", [31], true));
    expect(parseTextLine("/history", state)).toEqual({ kind: "frame", frame: { type: "history", room: "lobby", limit: 20 } });
  });

  test("a bad count or no current room is an error, not a message", () => {
    const state: TextState = { registered: true, currentRoom: "lobby" };
    expect(parseTextLine("/history lots", state)).toMatchObject({ kind: "error", code: "invalid" });
    expect(parseTextLine("/history 0", state)).toMatchObject({ kind: "error", code: "invalid", message: "limit: limit must be 1-100" });
    expect(parseTextLine("/history 101", state)).toMatchObject({ kind: "error", code: "invalid" });
    expect(parseTextLine("/history", { registered: true, currentRoom: null })).toMatchObject({ code: "not_in_room" });
  });

  test("a page renders as a head line and one line per message; an empty page says so", () => {
    expect(renderTextFrame(page("lobby", [4, 5], true), "bob")).toBe(
      "* #lobby history, messages 4-5 (/history again for earlier ones):\n[lobby] <ada> m4\n[lobby] <ada> m5",
    );
    expect(renderTextFrame(page("lobby", [1], false), "bob")).toContain("(nothing earlier is kept)");
    expect(renderTextFrame(page("lobby", [], false), "bob")).toBe("* No earlier messages kept in #lobby");
  });
});

describe("text rendering", () => {
  test("one readable line per event", () => {
    const ts = 0;
    expect(renderTextFrame({ type: "msg", room: "lobby", from: "alice", text: "hello", seq: 1, ts }, "bob")).toBe(
      "[lobby] <alice> hello",
    );
    expect(renderTextFrame({ type: "msg", room: "lobby", from: "alice", text: "/me waves", seq: 1, ts }, "bob")).toBe(
      "[lobby] * alice waves",
    );
    expect(renderTextFrame({ type: "join", room: "lobby", nick: "bob" }, "alice")).toBe("* bob joined #lobby");
    expect(renderTextFrame({ type: "presence", nick: "carol", status: "away", note: "lunch" }, "a")).toBe(
      "* carol is away (lunch)",
    );
    expect(renderTextFrame({ type: "dm", from: "alice", to: "bob", text: "hi", ts }, "alice")).toBe("-> bob: hi");
    expect(renderTextFrame({ type: "dm", from: "alice", to: "bob", text: "hi", ts }, "bob")).toBe("<- alice: hi");
    expect(renderTextFrame({ type: "error", code: "nick_taken", message: "bob is already in use" }, null)).toBe(
      "! nick_taken: bob is already in use; type another nick:",
    );
    expect(renderTextFrame({ type: "error", code: "no_such_user", message: "bob is not connected" }, "al")).toBe(
      "! no_such_user: bob is not connected",
    );
    expect(renderTextFrame({ type: "ping", t: 1 }, "a")).toBeNull();
  });
});

describe("telnet filter", () => {
  test("Ctrl-C (IAC IP IAC DO TIMING-MARK) is stripped and answered WONT TIMING-MARK", () => {
    const f = new TelnetFilter();
    const r = f.push(Uint8Array.from([0x68, 0x69, 255, 244, 255, 253, 6, 0x0a]));
    expect([...r.data]).toEqual([0x68, 0x69, 0x0a]);
    expect([...r.reply!]).toEqual([255, 252, 6]);
  });

  test("sequences split across chunks, WILL refused with DONT, subnegotiation skipped", () => {
    const f = new TelnetFilter();
    const bytes = [0x61, 255, 251, 31, 255, 250, 24, 1, 2, 255, 240, 0x62];
    const data: number[] = [];
    const reply: number[] = [];
    for (const b of bytes) {
      const r = f.push(Uint8Array.of(b));
      data.push(...r.data);
      if (r.reply) reply.push(...r.reply);
    }
    expect(data).toEqual([0x61, 0x62]);
    expect(reply).toEqual([255, 254, 31]);
  });

  test("plain text passes through untouched (same buffer)", () => {
    const chunk = new TextEncoder().encode("hello\n");
    expect(new TelnetFilter().push(chunk).data).toBe(chunk);
  });
});
