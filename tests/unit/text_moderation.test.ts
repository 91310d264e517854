import { describe, expect, test } from "bun:test";
import { parseTextLine, type TextState, words } from "../../lib/protocol/text_commands.ts";
import { renderTextFrame } from "../../lib/protocol/text_render.ts";
import { noteTextFrame } from "../../lib/protocol/text_state.ts";
import { TelnetFilter } from "../../lib/protocol/telnet.ts";

const inLobby = (): TextState => ({ registered: true, currentRoom: "lobby" });

describe("text commands for accounts and moderation", () => {
  test("each command maps to its frame, in the current room where a room is needed", () => {
    const cases: [string, unknown][] = [
      ["/register hunter22 two", { type: "register", password: "hunter22 two" }],
      ["/passwd old-one new-one", { type: "passwd", password: "old-one", new_password: "new-one" }],
      ["/drop my-pass", { type: "drop", password: "my-pass" }],
      ["/nick alice s3cret", { type: "nick", nick: "alice", password: "s3cret" }],
      ["/join den sesame", { type: "join", room: "den", key: "sesame" }],
      ["/topic  the  new topic", { type: "topic", room: "lobby", topic: "the  new topic" }],
      ["/mode den +i -t +k sesame", { type: "mode", room: "den", invite_only: true, topic_lock: false, key: "sesame" }],
      ["/mode #den -k", { type: "mode", room: "den", key: "" }],
      ["/op bob", { type: "op", room: "lobby", nick: "bob" }],
      ["/deop bob", { type: "deop", room: "lobby", nick: "bob" }],
      ["/kick bob go away now", { type: "kick", room: "lobby", nick: "bob", reason: "go away now" }],
      ["/ban bob", { type: "ban", room: "lobby", nick: "bob" }],
      ["/unban nick:bob", { type: "unban", room: "lobby", mask: "nick:bob" }],
      ["/bans", { type: "bans", room: "lobby" }],
      ["/invite bob", { type: "invite", room: "lobby", nick: "bob" }],
      ["/invite bob den", { type: "invite", room: "den", nick: "bob" }],
      ["/kill bob flooding", { type: "kill", nick: "bob", reason: "flooding" }],
    ];
    for (const [line, frame] of cases) {
      expect({ line, got: parseTextLine(line, inLobby()) as unknown }).toEqual({ line, got: { kind: "frame", frame } });
    }
  });

  test("bad uses get usage errors; /topic alone shows the topic", () => {
    for (const line of ["/mode den +x", "/mode den +k", "/mode", "/passwd only-one", "/kick", "/register"]) {
      expect({ line, got: parseTextLine(line, inLobby()) }).toMatchObject({ line, got: { kind: "error", code: "invalid" } });
    }
    expect(parseTextLine("/unban bogus", inLobby())).toMatchObject({ kind: "error", code: "invalid" });
    expect(parseTextLine("/topic", inLobby())).toEqual({ kind: "show_topic", room: "lobby" });
    expect(parseTextLine("/kick bob", { registered: true, currentRoom: null })).toMatchObject({ code: "not_in_room" });
  });

  test("after nick_reserved the next line is the password, taken whole", () => {
    const state: TextState = { registered: false, currentRoom: null };
    expect(parseTextLine("alice", state)).toEqual({ kind: "frame", frame: { type: "hello", nick: "alice" } });
    const reserved = { type: "error", code: "nick_reserved", message: "give its password" } as const;
    expect(noteTextFrame(state, reserved, null)).toBe("password");
    expect(renderTextFrame(reserved, null)).toBe("! nick_reserved: give its password; type its password (or another nick):");
    expect(parseTextLine(" two words ", state)).toEqual({ kind: "frame", frame: { type: "hello", nick: "alice", password: " two words " } });
    // Only once: the line after is a nick again.
    expect(parseTextLine("bob", state)).toEqual({ kind: "frame", frame: { type: "hello", nick: "bob" } });
    expect(parseTextLine("/nick carol pw", state)).toEqual({ kind: "frame", frame: { type: "hello", nick: "carol", password: "pw" } });
  });

  test("words splits off leading words and keeps the rest as typed", () => {
    expect(words("  a  b c  d ", 2)).toEqual(["a", "b c  d"]);
    expect(words("a", 3)).toEqual(["a"]);
    expect(words("", 2)).toEqual([]);
  });

  test("operators are marked with @ in /who and kicks say who and why", () => {
    expect(renderTextFrame({
      type: "who",
      room: "den",
      users: [{ nick: "ada", status: "online", since: 0, op: true, account: "ada" }, { nick: "bob", status: "away", since: 0 }],
      member_count: 2,
    }, "bob")).toBe("* #den: @ada (online), bob (away)");
    expect(renderTextFrame({ type: "leave", room: "den", nick: "bob", reason: "kicked", by: "ada", note: "bye\u001b[2J" }, "carl"))
      .toBe("* bob was kicked from #den by ada (bye\ufffd[2J)");
  });
});

describe("telnet echo offer", () => {
  test("while echo is offered the client's DO ECHO is accepted silently; other DOs are still refused", () => {
    const filter = new TelnetFilter();
    expect([...filter.echo(true)]).toEqual([255, 251, 1]);
    expect(filter.push(Uint8Array.of(255, 253, 1, 65)).reply).toBeNull();
    expect([...filter.push(Uint8Array.of(255, 253, 3)).reply!]).toEqual([255, 252, 3]);
    expect([...filter.echo(false)]).toEqual([255, 252, 1]);
    expect(filter.push(Uint8Array.of(255, 254, 1)).reply).toBeNull();
    // Not offered any more: a DO ECHO is refused as before.
    expect([...filter.push(Uint8Array.of(255, 253, 1)).reply!]).toEqual([255, 252, 1]);
  });
});
