import { beforeEach, describe, expect, test } from "bun:test";
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { Session } from "../../lib/hub/session.ts";
import type { ClientFrame } from "../../lib/protocol/client_frames.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";

/** A fake client: what it was sent and whether it was closed. */
interface Peer {
  name: string;
  got: ServerFrame[];
  closed?: string;
}

class RecordingSink implements HubSink<Peer> {
  send(to: Session<Peer>, frame: ServerFrame) {
    to.peer.got.push(frame);
  }
  broadcast(to: Iterable<Session<Peer>>, frame: ServerFrame, except?: Session<Peer>) {
    for (const s of to) if (s !== except) s.peer.got.push(frame);
  }
  close(session: Session<Peer>, reason: string) {
    session.peer.closed = reason;
  }
}

let settings: Settings;
let hub: Hub<Peer>;
let now: number;

beforeEach(() => {
  settings = defaultSettings();
  hub = new Hub<Peer>(settings, "test", new RecordingSink());
  now = 1_000_000;
  everyone = [];
});

function connect(name: string): Session<Peer> {
  return hub.attach({ name, got: [] }, now);
}
function send(s: Session<Peer>, frame: ClientFrame) {
  hub.handle(s, frame, now);
}
let everyone: Session<Peer>[] = [];
/** Registers a user, then clears every fake client's inbox so tests see only what follows. */
function user(nick: string): Session<Peer> {
  const s = connect(nick);
  send(s, { type: "hello", nick });
  everyone.push(s);
  for (const other of everyone) other.peer.got.length = 0;
  return s;
}
const types = (s: Session<Peer>) => s.peer.got.map((f) => f.type);
const last = (s: Session<Peer>) => s.peer.got.at(-1)!;

describe("registration", () => {
  test("hello gets welcome with the id, then the default room snapshot and own join", () => {
    const s = connect("a");
    send(s, { type: "hello", nick: "alice", id: "h1" });
    expect(types(s)).toEqual(["welcome", "room", "join"]);
    expect(s.peer.got[0]).toMatchObject({ type: "welcome", nick: "alice", id: "h1", limits: { max_frame: 16384 } });
    expect(s.peer.got[1]).toMatchObject({ room: "lobby", members: ["alice"] });
    expect(s.peer.got[1]).not.toHaveProperty("id");
  });

  test("an empty default_room puts nobody anywhere", () => {
    settings.default_room = "";
    const s = connect("a");
    send(s, { type: "hello", nick: "alice" });
    expect(types(s)).toEqual(["welcome"]);
  });

  test("frames before hello get not_registered, but ping is answered", () => {
    const s = connect("a");
    send(s, { type: "join", room: "x", id: "j" });
    send(s, { type: "ping", t: 5 });
    expect(s.peer.got).toEqual([
      { type: "error", code: "not_registered", message: "send hello first", id: "j" },
      { type: "pong", t: 5 },
    ]);
  });

  test("Bob, bob and fullwidth ｂｏｂ collide; the first keeps the nick", () => {
    user("Bob");
    for (const nick of ["bob", "ｂｏｂ", "BOB"]) {
      const s = connect(nick);
      send(s, { type: "hello", nick });
      expect(last(s)).toMatchObject({ type: "error", code: "nick_taken" });
    }
  });

  test("invalid nicks get nick_invalid", () => {
    for (const nick of ["a\u202Eb", "a\u200Bb", "a\u0000b", "x".repeat(33), ""]) {
      const s = connect("x");
      send(s, { type: "hello", nick });
      expect(last(s)).toMatchObject({ type: "error", code: "nick_invalid" });
    }
  });

  test("a nick is free again once its holder leaves", () => {
    const bob = user("bob");
    hub.detach(bob, "disconnect");
    const again = connect("b2");
    send(again, { type: "hello", nick: "Bob" });
    expect(again.peer.got[0].type).toBe("welcome");
  });
});

describe("rooms", () => {
  test("join sends the snapshot before any event, then join to everyone", () => {
    const a = user("alice");
    const b = user("bob");
    send(b, { type: "join", room: "dev", id: "1" });
    send(a, { type: "join", room: "dev" });
    expect(types(b)).toEqual(["room", "join", "join"]);
    expect(b.peer.got[0]).toMatchObject({ type: "room", room: "dev", id: "1", members: ["bob"] });
    expect(types(a)).toEqual(["room", "join"]);
    // The joiner is listed first (a capped snapshot must always show the joiner itself).
    expect(a.peer.got[0]).toMatchObject({ members: ["alice", "bob"], member_count: 2 });
  });

  test("messages get consecutive seqs; the sender's copy carries its id", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "msg", room: "lobby", text: "one", id: "m1" });
    send(a, { type: "msg", room: "lobby", text: "two" });
    expect(a.peer.got.map((f) => f.type === "msg" && [f.seq, f.id])).toEqual([[1, "m1"], [2, undefined]]);
    expect(b.peer.got).toEqual([
      { type: "msg", room: "lobby", from: "alice", text: "one", seq: 1, ts: now },
      { type: "msg", room: "lobby", from: "alice", text: "two", seq: 2, ts: now },
    ]);
  });

  test("join with since returns exactly the kept messages after it", () => {
    settings.rate_per_s = 0;
    const a = user("alice");
    for (let i = 1; i <= 30; i++) send(a, { type: "msg", room: "lobby", text: `m${i}` });
    const b = user("bob");
    send(b, { type: "leave", room: "lobby" });
    b.peer.got.length = 0;
    send(b, { type: "join", room: "lobby", since: 25 });
    const snap = b.peer.got[0];
    expect(snap.type === "room" && snap.history.map((m) => m.seq)).toEqual([26, 27, 28, 29, 30]);
  });

  test("a since past the room's seq (seen before a restart) gets all kept history; a remade room has a new epoch", () => {
    settings.rate_per_s = 0;
    settings.default_room = "";
    const a = user("alice");
    send(a, { type: "join", room: "ops" });
    const first = a.peer.got.find((f) => f.type === "room");
    send(a, { type: "msg", room: "ops", text: "one" });
    send(a, { type: "msg", room: "ops", text: "two" });
    a.peer.got.length = 0;
    send(a, { type: "join", room: "ops", since: 40 });
    const snap = a.peer.got[0];
    expect(snap.type === "room" && snap.history.map((m) => m.text)).toEqual(["one", "two"]);
    expect(snap.type === "room" && first?.type === "room" && snap.epoch === first.epoch).toBe(true);
    send(a, { type: "join", room: "fresh" });
    const other = a.peer.got.find((f) => f.type === "room" && f.room === "fresh");
    expect(other?.type === "room" && snap.type === "room" && other.epoch !== snap.epoch).toBe(true);
  });

  test("without since the last history_on_join messages come; history keeps only the last N", () => {
    settings.rate_per_s = 0;
    settings.history = 50;
    const a = user("alice");
    for (let i = 1; i <= 120; i++) send(a, { type: "msg", room: "lobby", text: `m${i}` });
    const b = user("bob");
    hub.handle(b, { type: "leave", room: "lobby" }, now);
    b.peer.got.length = 0;
    send(b, { type: "join", room: "lobby" });
    const snap = b.peer.got[0];
    expect(snap.type === "room" && snap.history.map((m) => m.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => 101 + i),
    );
    b.peer.got.length = 0;
    send(b, { type: "join", room: "lobby", since: 0 });
    const all = b.peer.got[0];
    expect(all.type === "room" && all.history.length).toBe(50);
    expect(all.type === "room" && all.history[0].seq).toBe(71);
  });

  test("leave: left to the leaver, leave to the rest, not_in_room otherwise", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "leave", room: "lobby", id: "l" });
    expect(a.peer.got).toEqual([{ type: "left", room: "lobby", id: "l" }]);
    expect(last(b)).toEqual({ type: "leave", room: "lobby", nick: "alice", reason: "left" });
    send(a, { type: "leave", room: "lobby" });
    expect(last(a)).toMatchObject({ code: "not_in_room" });
    send(a, { type: "msg", room: "lobby", text: "hi" });
    expect(last(a)).toMatchObject({ code: "not_in_room" });
  });

  test("who and rooms; who on a missing room is no_such_room", () => {
    const a = user("alice");
    user("bob");
    send(a, { type: "who", room: "lobby" });
    expect(last(a)).toMatchObject({
      type: "who",
      room: "lobby",
      users: [{ nick: "alice", status: "online", since: now }, { nick: "bob", status: "online" }],
    });
    send(a, { type: "rooms" });
    expect(last(a)).toEqual({ type: "rooms", rooms: [{ name: "lobby", members: 2, seq: 0 }] });
    send(a, { type: "who", room: "nowhere", id: "w" });
    expect(last(a)).toMatchObject({ code: "no_such_room", id: "w" });
  });

  test("an emptied room keeps its history for resume; rooms past max_rooms forget the oldest empty one", () => {
    settings.max_rooms = 2;
    settings.default_room = "";
    const a = user("alice");
    send(a, { type: "join", room: "one" });
    send(a, { type: "msg", room: "one", text: "kept" });
    send(a, { type: "leave", room: "one" });
    send(a, { type: "join", room: "two" });
    send(a, { type: "rooms" });
    expect(last(a)).toMatchObject({ rooms: [{ name: "one", seq: 1 }, { name: "two" }] });
    send(a, { type: "join", room: "three" });
    send(a, { type: "rooms" });
    expect(last(a)).toMatchObject({ rooms: [{ name: "two" }, { name: "three" }] });
    send(a, { type: "join", room: "four" });
    expect(last(a)).toMatchObject({ code: "too_many_rooms" });
  });
});

describe("direct messages, nick changes and presence", () => {
  test("dm goes to the recipient and a copy with id to the sender; absent users are no_such_user", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "dm", to: "BOB", text: "psst", id: "d" });
    expect(b.peer.got).toEqual([{ type: "dm", from: "alice", to: "bob", text: "psst", ts: now }]);
    expect(a.peer.got).toEqual([{ type: "dm", from: "alice", to: "bob", text: "psst", ts: now, id: "d" }]);
    send(a, { type: "dm", to: "carol", text: "?" });
    expect(last(a)).toMatchObject({ code: "no_such_user" });
  });

  test("text longer than max_text in code points is text_too_long", () => {
    settings.max_text = 3;
    const a = user("alice");
    send(a, { type: "msg", room: "lobby", text: "𝐀𝐀𝐀" });
    expect(last(a)).toMatchObject({ type: "msg" });
    send(a, { type: "msg", room: "lobby", text: "abcd", id: "t" });
    expect(last(a)).toMatchObject({ code: "text_too_long", id: "t" });
  });

  test("nick change tells everyone sharing a room once; collisions refused", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "join", room: "dev" });
    send(b, { type: "join", room: "dev" });
    a.peer.got.length = b.peer.got.length = 0;
    send(a, { type: "nick", nick: "Alicia", id: "n" });
    expect(a.peer.got).toEqual([{ type: "nick", old: "alice", new: "Alicia", id: "n" }]);
    expect(b.peer.got).toEqual([{ type: "nick", old: "alice", new: "Alicia" }]);
    send(a, { type: "nick", nick: "BOB" });
    expect(last(a)).toMatchObject({ code: "nick_taken" });
    send(a, { type: "nick", nick: "alicia" });
    expect(last(a)).toMatchObject({ type: "nick", new: "alicia" });
  });

  test("status reaches everyone sharing a room; who shows it", () => {
    const a = user("alice");
    const b = user("bob");
    const loner = user("carol");
    send(loner, { type: "leave", room: "lobby" });
    loner.peer.got.length = 0;
    now += 5000;
    send(a, { type: "status", status: "away", note: "lunch", id: "s" });
    expect(last(a)).toEqual({ type: "presence", nick: "alice", status: "away", note: "lunch", id: "s" });
    expect(last(b)).toEqual({ type: "presence", nick: "alice", status: "away", note: "lunch" });
    expect(loner.peer.got).toEqual([]);
    send(b, { type: "who", room: "lobby" });
    expect(last(b)).toMatchObject({ users: [{ nick: "alice", status: "away", note: "lunch", since: now }, {}] });
  });

  test("detach tells each room leave with the reason and each neighbour presence offline once", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "join", room: "dev" });
    send(b, { type: "join", room: "dev" });
    b.peer.got.length = 0;
    hub.detach(a, "timeout");
    expect(b.peer.got).toEqual([
      { type: "leave", room: "lobby", nick: "alice", reason: "timeout" },
      { type: "leave", room: "dev", nick: "alice", reason: "timeout" },
      { type: "presence", nick: "alice", status: "offline", reason: "timeout" },
    ]);
    hub.detach(a, "timeout");
    expect(b.peer.got.length).toBe(3);
    expect(hub.counts()).toMatchObject({ sessions: 1, registered: 1, rooms: 2 });
  });

  test("quit answers bye with the id, closes, and others hear leave quit", () => {
    const a = user("alice");
    const b = user("bob");
    send(a, { type: "quit", id: "q" });
    expect(a.peer.got).toEqual([{ type: "bye", reason: "quit", id: "q" }]);
    expect(a.peer.closed).toBe("quit");
    expect(b.peer.got[0]).toMatchObject({ type: "leave", reason: "quit" });
  });
});

describe("rate limits", () => {
  test("past the burst frames are dropped with retry_after_ms; a sustained flood is closed", () => {
    const a = user("alice");
    const b = user("bob");
    for (let i = 0; i < 10; i++) send(a, { type: "msg", room: "lobby", text: `${i}` });
    send(a, { type: "msg", room: "lobby", text: "over", id: "x" });
    expect(last(a)).toEqual({
      type: "error",
      code: "rate_limited",
      message: "too many frames; retry in 200 ms",
      id: "x",
      retry_after_ms: 200,
    });
    expect(b.peer.got.filter((f) => f.type === "msg").length).toBe(10);
    for (let i = 0; i < 30 && !a.peer.closed; i++) send(a, { type: "msg", room: "lobby", text: "flood" });
    expect(a.peer.closed).toBe("flood");
    expect(last(a)).toEqual({ type: "bye", reason: "flood" });
    expect(last(b)).toMatchObject({ type: "presence", status: "offline", reason: "flood" });
  });

  test("tokens refill with the clock", () => {
    const a = user("alice");
    for (let i = 0; i < 10; i++) send(a, { type: "msg", room: "lobby", text: `${i}` });
    now += 400;
    send(a, { type: "msg", room: "lobby", text: "a" });
    send(a, { type: "msg", room: "lobby", text: "b" });
    send(a, { type: "msg", room: "lobby", text: "c" });
    expect(a.peer.got.slice(-3).map((f) => f.type)).toEqual(["msg", "msg", "error"]);
  });

  test("ping, who and rooms are not rate limited", () => {
    const a = user("alice");
    for (let i = 0; i < 50; i++) send(a, { type: "ping" });
    expect(a.peer.got.every((f) => f.type === "pong")).toBe(true);
  });
});

describe("shutdown", () => {
  test("everyone gets bye shutdown and nobody hears others leave", () => {
    const a = user("alice");
    const b = user("bob");
    expect(hub.shutdown()).toBe(2);
    expect(a.peer.got).toEqual([{ type: "bye", reason: "shutdown" }]);
    expect(b.peer.got).toEqual([{ type: "bye", reason: "shutdown" }]);
    expect(hub.counts()).toMatchObject({ sessions: 0, registered: 0, rooms: 0, historyBytes: 0 });
  });
});

describe("history paging", () => {
  /** A user in room `r` holding messages 1..n sent by it; inbox cleared. */
  function roomWith(n: number, nick = "ada"): Session<Peer> {
    const s = user(nick);
    send(s, { type: "join", room: "r" });
    for (let i = 1; i <= n; i++) send(s, { type: "msg", room: "r", text: `m${i}` });
    s.peer.got.length = 0;
    return s;
  }
  const page = (s: Session<Peer>) => {
    const frame = last(s);
    if (frame.type !== "history") throw new Error(`expected history, got ${JSON.stringify(frame)}`);
    return { seqs: frame.msgs.map((m) => m.seq), more: frame.more, epoch: frame.epoch, id: frame.id };
  };

  test("history answers members with a page, its id and the room's epoch", () => {
    settings.rate_per_s = 0;
    const a = roomWith(30);
    send(a, { type: "join", room: "r" });
    const snap = last(a);
    const snapshotEpoch = snap.type === "room" ? snap.epoch : "";
    send(a, { type: "history", room: "r", id: "h1", limit: 3 });
    expect(page(a)).toEqual({ seqs: [28, 29, 30], more: true, epoch: snapshotEpoch, id: "h1" });
    send(a, { type: "history", room: "r", before: 28, limit: 100 });
    expect(page(a).seqs.length).toBe(27);
    expect(page(a).more).toBe(false);
    send(a, { type: "history", room: "r", after: 30 });
    expect(page(a)).toMatchObject({ seqs: [], more: false });
    send(a, { type: "history", room: "r" });
    expect(page(a).seqs.length).toBe(30);
  });

  test("non-members and rooms that do not exist are refused with not_in_room", () => {
    roomWith(3);
    const b = user("bob");
    send(b, { type: "history", room: "r", id: "x" });
    expect(last(b)).toMatchObject({ type: "error", code: "not_in_room", id: "x" });
    send(b, { type: "history", room: "nowhere" });
    expect(last(b)).toMatchObject({ type: "error", code: "not_in_room" });
  });

  test("a forgotten room's history is gone: joining again starts a new epoch with nothing to page", () => {
    settings.max_rooms = 2; // lobby and one more
    settings.rate_per_s = 0;
    const a = roomWith(5);
    send(a, { type: "history", room: "r" });
    const oldEpoch = page(a).epoch;
    send(a, { type: "leave", room: "r" });
    send(a, { type: "join", room: "other" }); // forgets r, the oldest empty room
    send(a, { type: "join", room: "r" }); // r is remade... but rooms are full: other is not empty
    expect(last(a)).toMatchObject({ type: "error", code: "too_many_rooms" });
    send(a, { type: "leave", room: "other" });
    send(a, { type: "join", room: "r" });
    send(a, { type: "history", room: "r" });
    expect(page(a).seqs).toEqual([]);
    expect(page(a).epoch).not.toBe(oldEpoch);
    expect(hub.counts().historyBytes).toBe(0);
  });

  test("history spends a rate-limit token like msg", () => {
    settings.rate_per_s = 1;
    settings.burst = 2;
    const a = roomWith(0);
    a.tokens = 2;
    send(a, { type: "history", room: "r" });
    send(a, { type: "history", room: "r" });
    send(a, { type: "history", room: "r" });
    expect(types(a)).toEqual(["history", "history", "error"]);
    expect(last(a)).toMatchObject({ code: "rate_limited" });
  });

  test("a resume past snapshot_bytes carries part of the history and more; history after brings the rest", () => {
    settings.rate_per_s = 0;
    settings.snapshot_bytes = 40_000;
    const a = roomWith(0);
    for (let i = 0; i < 10; i++) send(a, { type: "msg", room: "r", text: "😀".repeat(4000) });
    send(a, { type: "join", room: "r", since: 0 });
    const snap = last(a);
    expect(snap.type === "room" && snap.history.map((m) => m.seq)).toEqual([1, 2]);
    expect(snap.type === "room" && snap.more).toBe(true);
    const seen = [1, 2];
    for (;;) {
      send(a, { type: "history", room: "r", after: seen.at(-1)!, limit: 100 });
      const p = page(a);
      seen.push(...p.seqs);
      if (!p.more) break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Without since the newest that fit come, and nothing is said to follow.
    send(a, { type: "join", room: "r" });
    const plain = last(a);
    expect(plain.type === "room" && plain.history.map((m) => m.seq)).toEqual([9, 10]);
    expect(plain.type === "room" && plain.more).toBe(undefined);
  });

  test("history held in memory stays within history_memory across many rooms", () => {
    settings.rate_per_s = 0;
    settings.history_memory = 200_000;
    settings.max_rooms = 1000;
    const a = user("ada");
    for (let r = 0; r < 50; r++) {
      send(a, { type: "join", room: `room${r}` });
      for (let i = 0; i < 5; i++) send(a, { type: "msg", room: `room${r}`, text: "x".repeat(4000) });
      expect(hub.counts().historyBytes).toBeLessThanOrEqual(200_000);
    }
    expect(hub.counts().historyBytes).toBeGreaterThan(150_000);
    // The most recently active room kept everything; the first rooms gave way.
    a.peer.got.length = 0;
    send(a, { type: "history", room: "room49" });
    expect(page(a).seqs).toEqual([1, 2, 3, 4, 5]);
    send(a, { type: "history", room: "room0" });
    expect(page(a).seqs).toEqual([]);
  });
});
