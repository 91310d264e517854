import { describe, expect, test } from "bun:test";
import { formatMsg } from "../../lib/client/terminal_format.ts";
import { decodeJsonFrame } from "../../lib/protocol/client_frames.ts";
import { printable, renderTextFrame } from "../../lib/protocol/text_render.ts";

const ts = 0;
const BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"];

describe("text users see other users' text inert", () => {
  test("bidi controls in a message are shown as U+FFFD", () => {
    for (const ch of BIDI) {
      expect(renderTextFrame({ type: "msg", room: "lobby", from: "mallory", text: `gnp.${ch}exe`, seq: 1, ts }, "bob"))
        .toBe("[lobby] <mallory> gnp.\ufffdexe");
    }
  });

  test("line and paragraph separators are shown as U+FFFD", () => {
    expect(printable("one\u2028two\u2029three")).toBe("one\ufffdtwo\ufffdthree");
  });

  test("notes, direct messages and snapshots are made inert too", () => {
    expect(renderTextFrame({ type: "presence", nick: "m", status: "away", note: "\u202eyawa" }, "b")).toBe(
      "* m is away (\ufffdyawa)",
    );
    expect(renderTextFrame({ type: "dm", from: "m", to: "b", text: "a\u2028b", ts }, "b")).toBe("<- m: a\ufffdb");
    const snapshot = renderTextFrame({
      type: "room",
      room: "lobby",
      seq: 1,
      epoch: "e",
      members: ["m"],
      member_count: 1,
      history: [{ type: "msg", room: "lobby", from: "m", text: "\u2067x", seq: 1, ts }],
    }, "b");
    expect(snapshot).toContain("[lobby] <m> \ufffdx");
  });

  test("the bundled client shows messages inert too: no escape sequence or bidi control reaches its terminal", () => {
    const msg = { type: "msg", room: "lobby", from: "m", text: "\x1b[2Jwiped\u202eexe", seq: 1, ts } as const;
    expect(formatMsg(msg, { color: false, self: "b" })).toEndWith("[lobby] <m> \ufffd[2Jwiped\ufffdexe");
  });

  test("ordinary right-to-left text is untouched", () => {
    expect(printable("שלום مرحبا")).toBe("שלום مرحبا");
  });
});

describe("lone surrogates are refused", () => {
  const problem = (line: string) => {
    const r = decodeJsonFrame(line);
    return r.ok ? null : r.problem;
  };

  test("a text with a lone surrogate is invalid, field text", () => {
    expect(problem('{"type":"msg","room":"lobby","text":"a\\ud800b","id":"7"}')).toMatchObject({
      code: "invalid",
      field: "text",
      id: "7",
    });
    expect(problem('{"type":"msg","room":"lobby","text":"\\udc00"}')).toMatchObject({ field: "text" });
    expect(problem('{"type":"dm","to":"bob","text":"x\\ud83d"}')).toMatchObject({ field: "text" });
  });

  test("every other string a user sends is checked too, and named", () => {
    expect(problem('{"type":"dm","to":"b\\ud800","text":"x"}')).toMatchObject({ field: "to" });
    expect(problem('{"type":"hello","nick":"b\\ud800"}')).toMatchObject({ field: "nick" });
    expect(problem('{"type":"nick","nick":"\\udfff"}')).toMatchObject({ field: "nick" });
    expect(problem('{"type":"status","status":"away","note":"\\ud800"}')).toMatchObject({ field: "note" });
    expect(problem('{"type":"quit","reason":"\\ud800"}')).toMatchObject({ field: "reason" });
    expect(problem('{"type":"ping","id":"\\ud800"}')).toMatchObject({ field: "id", id: undefined });
    // Found by the fuzzer: a ping's t came back in the pong.
    expect(problem('{"type":"ping","t":"\\ud800"}')).toMatchObject({ field: "t" });
  });

  test("a surrogate pair (an emoji) is fine, escaped or not", () => {
    expect(decodeJsonFrame('{"type":"msg","room":"lobby","text":"\\ud83d\\ude00 😀"}')).toMatchObject({
      ok: true,
      frame: { text: "😀 😀" },
    });
  });
});
