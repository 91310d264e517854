import { describe, expect, test } from "bun:test";
import { formatFrame, formatMsg, nickColor } from "../../lib/client/terminal_format.ts";

const plain = { color: false, self: "ada" };
const ts = new Date(2026, 0, 1, 9, 5).getTime();

describe("terminal format", () => {
  test("messages carry a timestamp, room and nick; /me reads as an action", () => {
    expect(formatMsg({ type: "msg", room: "lobby", from: "bob", text: "hi", seq: 1, ts }, plain)).toBe(
      "09:05 [lobby] <bob> hi",
    );
    expect(formatMsg({ type: "msg", room: "lobby", from: "bob", text: "/me waves", seq: 2, ts }, plain)).toBe(
      "09:05 [lobby] * bob waves",
    );
  });

  test("each nick keeps one colour, whatever its case; no escapes without colour", () => {
    expect(nickColor("Bob")).toBe(nickColor("bob"));
    const colored = formatMsg({ type: "msg", room: "r", from: "bob", text: "x", seq: 1, ts }, { ...plain, color: true });
    expect(colored).toContain(`\x1b[${nickColor("bob")}mbob\x1b[0m`);
    expect(formatMsg({ type: "msg", room: "r", from: "bob", text: "x", seq: 1, ts }, plain)).not.toContain("\x1b");
  });

  test("other events reuse the text dialect's lines; own direct messages show an arrow", () => {
    expect(formatFrame({ type: "dm", from: "ada", to: "bob", text: "hey", ts }, plain)).toBe("09:05 -> bob: hey");
    expect(formatFrame({ type: "join", room: "lobby", nick: "ada" }, plain)).toBeNull();
    expect(formatFrame({ type: "join", room: "lobby", nick: "cy" }, plain, ts)).toBe("09:05 * cy joined #lobby");
    expect(formatFrame({ type: "error", code: "not_in_room", message: "x" }, plain, ts)).toBe("09:05 ! not_in_room: x");
  });
});
