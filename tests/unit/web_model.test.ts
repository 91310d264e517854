import { expect, test } from "bun:test";
import { parseInput } from "../../lib/web/input.ts";
import { ChatModel, MAX_LINES } from "../../lib/web/model.ts";

const msg = (room: string, from: string, text: string, seq: number) => ({ type: "msg" as const, room, from, text, seq, ts: 1000 + seq });
const snapshot = (room: string, members: string[]) => ({
  type: "room" as const,
  room,
  seq: 0,
  epoch: "e",
  members,
  member_count: members.length,
  history: [],
});

test("messages in a room not on screen count as unread until it is selected; our own never do", () => {
  const model = new ChatModel();
  model.nick = "ada";
  model.onRoom(snapshot("lobby", ["ada"]));
  model.onRoom(snapshot("dev", ["ada"]));
  expect(model.current).toBe("#lobby");
  model.onMsg(msg("dev", "bob", "hi", 1));
  model.onMsg(msg("dev", "ada", "mine", 2));
  model.onMsg(msg("lobby", "bob", "seen", 1));
  expect(model.conversations.get("#dev")!.unread).toBe(1);
  expect(model.conversations.get("#lobby")!.unread).toBe(0);
  model.select("#dev");
  expect(model.conversations.get("#dev")!.unread).toBe(0);
});

test("a DM lands in the conversation with the other person, sent or received; /me is an action", () => {
  const model = new ChatModel();
  model.nick = "ada";
  model.onDm({ type: "dm", from: "bob", to: "ada", text: "psst", ts: 1 });
  model.onDm({ type: "dm", from: "ada", to: "bob", text: "/me nods", ts: 2 });
  const lines = model.conversations.get("@bob")!.lines;
  expect(lines.map((l) => [l.kind, l.from, l.text])).toEqual([["msg", "bob", "psst"], ["action", "ada", "nods"]]);
});

test("presence updates the member in every shared room; offline removes it", () => {
  const model = new ChatModel();
  model.nick = "ada";
  model.onRoom(snapshot("lobby", ["ada", "bob"]));
  model.onPresence({ type: "presence", nick: "bob", status: "away", note: "lunch" }, 5);
  expect(model.conversations.get("#lobby")!.members.get("bob")).toEqual({ nick: "bob", status: "away", note: "lunch" });
  expect(model.conversations.get("#lobby")!.lines.at(-1)!.text).toBe("bob is away: lunch");
  model.onPresence({ type: "presence", nick: "bob", status: "offline", reason: "quit" }, 6);
  expect(model.conversations.get("#lobby")!.members.has("bob")).toBe(false);
});

test("a crowded room keeps its member count from the snapshot and the crowd summaries, with one line per summary", () => {
  const model = new ChatModel();
  model.nick = "ada";
  model.onRoom({ ...snapshot("big", ["ada", "bob"]), member_count: 250 });
  const room = model.conversations.get("#big")!;
  expect([room.members.size, room.memberCount]).toEqual([2, 250]);
  model.onCrowd({ type: "crowd", room: "big", joined: 12, left: 3, member_count: 259 }, 7);
  expect(room.memberCount).toBe(259);
  expect(room.lines.at(-1)!.text).toBe("12 joined, 3 left (259 here)");
  // An operator's leave is still told one by one.
  model.onLeave({ type: "leave", room: "big", nick: "bob", reason: "left" }, 8);
  expect([room.members.size, room.memberCount]).toEqual([1, 258]);
  // A leave of someone not listed (or a second report of one) does not count twice.
  model.onPresence({ type: "presence", nick: "bob", status: "offline", reason: "quit" }, 9);
  expect(room.memberCount).toBe(258);
});

test("a conversation keeps at most MAX_LINES lines", () => {
  const model = new ChatModel();
  model.onRoom(snapshot("lobby", []));
  for (let i = 1; i <= MAX_LINES + 10; i++) model.onMsg(msg("lobby", "bob", `m${i}`, i));
  const room = model.conversations.get("#lobby")!;
  expect(room.lines).toHaveLength(MAX_LINES);
  expect(room.lines[0].text).toBe("m11");
  expect(room.added).toBe(MAX_LINES + 10);
});

test("the compose box understands the text dialect's commands", () => {
  expect(parseInput("hello")).toEqual({ kind: "say", text: "hello" });
  expect(parseInput("/me waves")).toEqual({ kind: "say", text: "/me waves" });
  expect(parseInput("/join #dev")).toEqual({ kind: "join", room: "dev" });
  expect(parseInput("/msg bob hi there")).toEqual({ kind: "dm", to: "bob", text: "hi there" });
  expect(parseInput("/away at lunch")).toEqual({ kind: "away", note: "at lunch" });
  expect(parseInput("/leave")).toEqual({ kind: "leave", room: null });
  expect(parseInput("/frobnicate").kind).toBe("error");
});
