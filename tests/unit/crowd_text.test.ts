/** How crowded rooms read in the text dialect: member counts, `who` pages and the crowd line. */
import { describe, expect, test } from "bun:test";
import { parseTextLine } from "../../lib/protocol/text_commands.ts";
import { renderTextFrame } from "../../lib/protocol/text_render.ts";

const state = { registered: true, currentRoom: "lobby" };

describe("crowded rooms in the text dialect", () => {
  test("/who pages: /who ROOM AFTER asks for the page after a nick", () => {
    expect(parseTextLine("/who", state)).toEqual({ kind: "frame", frame: { type: "who", room: "lobby" } });
    expect(parseTextLine("/who #dev", state)).toEqual({ kind: "frame", frame: { type: "who", room: "dev" } });
    expect(parseTextLine("/who lobby bob", state)).toEqual({
      kind: "frame",
      frame: { type: "who", room: "lobby", after: "bob" },
    });
    expect(parseTextLine("/who lobby bob carl", state)).toMatchObject({ kind: "error", code: "invalid" });
  });

  test("a capped snapshot says how many more members there are and how to list them", () => {
    const line = renderTextFrame(
      { type: "room", room: "lobby", seq: 0, epoch: "e", members: ["me", "ada"], member_count: 2000, history: [] },
      "me",
    );
    expect(line).toBe("* Now in #lobby with me, ada and 1998 more (2000 members; /who lobby lists them)");
  });

  test("a who page names the count and the command for the next page; a whole small room reads as before", () => {
    const users = [{ nick: "ada", status: "online" as const, since: 0 }];
    expect(renderTextFrame({ type: "who", room: "lobby", users, member_count: 1 }, "me")).toBe("* #lobby: ada (online)");
    expect(renderTextFrame({ type: "who", room: "lobby", users, member_count: 900, next: "ada" }, "me")).toBe(
      "* #lobby (900 members, 1 shown): ada (online); more: /who lobby ada",
    );
  });

  test("the crowd summary is one line", () => {
    expect(renderTextFrame({ type: "crowd", room: "lobby", joined: 12, left: 3, member_count: 2000 }, "me")).toBe(
      "* #lobby: 12 joined, 3 left; 2000 members now",
    );
  });
});
