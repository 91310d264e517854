import { expect, test } from "bun:test";
import { parseInput } from "../../lib/web/input.ts";
import { ChatModel, MAX_LINES } from "../../lib/web/model.ts";

const msg = (room: string, from: string, text: string, seq: number) => ({ type: "msg" as const, room, from, text, seq, ts: 1000 + seq });
const snapshot = (room: string, members: string[], topic = "") => ({
  type: "room" as const,
  room,
  seq: 0,
  epoch: "e",
  members,
  member_count: members.length,
  history: [],
  topic,
});
const texts = (model: ChatModel, key: string) => model.conversations.get(key)!.lines.map((line) => line.text);

test("operator and account commands typed in the page become the text dialect's frames, for the room on screen", () => {
  expect(parseInput("/kick bob being rude", "ops")).toEqual({ kind: "frame", frame: { type: "kick", room: "ops", nick: "bob", reason: "being rude" } });
  expect(parseInput("/ban bob", "ops")).toEqual({ kind: "frame", frame: { type: "ban", room: "ops", nick: "bob" } });
  expect(parseInput("/topic <b>plans</b>", "ops")).toEqual({ kind: "frame", frame: { type: "topic", room: "ops", topic: "<b>plans</b>" } });
  expect(parseInput("/topic", "ops")).toEqual({ kind: "show_topic", room: "ops" });
  expect(parseInput("/mode ops +i -t", "ops")).toEqual({ kind: "frame", frame: { type: "mode", room: "ops", invite_only: true, topic_lock: false } });
  expect(parseInput("/op carol", "ops")).toEqual({ kind: "frame", frame: { type: "op", room: "ops", nick: "carol" } });
  expect(parseInput("/invite carol", "ops")).toEqual({ kind: "frame", frame: { type: "invite", room: "ops", nick: "carol" } });
  expect(parseInput("/register hunter2 and more")).toEqual({ kind: "frame", frame: { type: "register", password: "hunter2 and more" } });
  expect(parseInput("/join secret sesame")).toEqual({ kind: "frame", frame: { type: "join", room: "secret", key: "sesame" } });
  expect(parseInput("/nick ada pw")).toEqual({ kind: "frame", frame: { type: "nick", nick: "ada", password: "pw" } });
  // The one-word forms stay the page's own.
  expect(parseInput("/join dev")).toEqual({ kind: "join", room: "dev" });
  expect(parseInput("/nick ada")).toEqual({ kind: "nick", nick: "ada" });
  // Outside a room, a room command says so rather than guessing one.
  expect(parseInput("/kick bob", null)).toEqual({ kind: "error", message: "join a room first: /kick acts on the current room" });
  expect(parseInput("/kick", "ops")).toEqual({ kind: "error", message: "usage: /kick NICK [REASON]" });
});

test("the topic comes with the snapshot and with each change; operators are marked from who and role", () => {
  const model = new ChatModel();
  model.nick = "opal";
  model.onRoom(snapshot("ops", ["opal", "bob"], "first"));
  expect(model.conversations.get("#ops")!.topic).toBe("first");
  model.onWho({ type: "who", room: "ops", member_count: 2, users: [{ nick: "opal", status: "online", since: 1, op: true }, { nick: "bob", status: "online", since: 1 }] });
  expect(model.isOp("#ops")).toBe(true);
  model.onTopic({ type: "topic", room: "ops", topic: "<img src=x>", by: "opal", ts: 5 });
  expect(model.conversations.get("#ops")!.topic).toBe("<img src=x>");
  model.onRole({ type: "role", room: "ops", nick: "bob", op: true, by: "opal" }, 6);
  expect(model.conversations.get("#ops")!.members.get("bob")!.op).toBe(true);
  expect(texts(model, "#ops")).toEqual(["opal set the topic: <img src=x>", "opal made bob an operator"]);
});

test("kicks, bans and kills say who and why; our own leaves the room on screen as gone", () => {
  const model = new ChatModel();
  model.nick = "bob";
  model.onRoom(snapshot("ops", ["opal", "bob", "carol", "dan"]));
  model.onLeave({ type: "leave", room: "ops", nick: "carol", reason: "banned", by: "opal", note: "spam" }, 1);
  model.onLeave({ type: "leave", room: "ops", nick: "dan", reason: "killed", by: "root" }, 2);
  expect(model.conversations.get("#ops")!.gone).toBeFalsy();
  model.onLeave({ type: "leave", room: "ops", nick: "bob", reason: "kicked", by: "opal", note: "rude" }, 3);
  expect(texts(model, "#ops")).toEqual([
    "carol was banned by opal: spam",
    "dan was disconnected by a server operator",
    "You were kicked by opal: rude",
  ]);
  expect(model.conversations.get("#ops")!.gone).toBe(true);
  expect([...model.conversations.get("#ops")!.members.keys()]).toEqual(["opal"]);
});

test("earlier pages go above, once each and in order, until the server keeps nothing earlier", () => {
  const model = new ChatModel();
  model.onRoom(snapshot("lobby", ["ada"]));
  for (const seq of [8, 9, 10]) model.onMsg(msg("lobby", "bob", `m${seq}`, seq));
  expect(model.oldestSeq("#lobby")).toBe(8);
  // A page that overlaps what is shown adds only what came before it.
  expect(model.onEarlier("lobby", [5, 6, 7, 8].map((seq) => msg("lobby", "bob", `m${seq}`, seq)), true)).toBe(3);
  expect(model.onEarlier("lobby", [1, 2, 3, 4].map((seq) => msg("lobby", "bob", `m${seq}`, seq)), false)).toBe(4);
  expect(texts(model, "#lobby")).toEqual(["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10"]);
  expect(model.conversations.get("#lobby")!.historyDone).toBe(true);
  expect(model.conversations.get("#lobby")!.prepended).toBe(7);
});

test("scrollback may grow a room past MAX_LINES, and live lines then keep that bound", () => {
  const model = new ChatModel();
  model.onRoom(snapshot("lobby", ["ada"]));
  for (let seq = 1001; seq <= 1000 + MAX_LINES; seq++) model.onMsg(msg("lobby", "bob", `m${seq}`, seq));
  const page = Array.from({ length: 100 }, (_, i) => msg("lobby", "bob", `m${901 + i}`, 901 + i));
  expect(model.onEarlier("lobby", page, true)).toBe(100);
  model.onMsg(msg("lobby", "bob", "live", 2000));
  const lines = model.conversations.get("#lobby")!.lines;
  expect(lines.length).toBe(MAX_LINES + 100);
  expect([lines[0].text, lines.at(-1)!.text]).toEqual(["m902", "live"]);
});

test("a room whose first message is on screen, or that has none, has nothing earlier to load", () => {
  const model = new ChatModel();
  model.onRoom(snapshot("empty", ["ada"]));
  expect(model.conversations.get("#empty")!.historyDone).toBe(true);
  model.onRoom({ ...snapshot("busy", ["ada"]), seq: 3 });
  expect(model.conversations.get("#busy")!.historyDone).toBeFalsy();
  model.onMsg(msg("busy", "bob", "first", 1));
  expect(model.conversations.get("#busy")!.historyDone).toBe(true);
});
