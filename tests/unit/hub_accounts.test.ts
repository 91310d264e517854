/**
 * The hub's account and moderation logic without sockets: a fake hasher whose
 * answers the test releases, so ordering and departures are exact.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { AuditEvent } from "../../lib/hub/hub_services.ts";
import type { PasswordHasher } from "../../lib/hub/password_hasher.ts";
import type { Session } from "../../lib/hub/session.ts";
import type { ClientFrame } from "../../lib/protocol/client_frames.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";
import { MemoryAccountStore, type PasswordRecord } from "../../lib/store/account_store.ts";
import { MemoryRoomStateStore } from "../../lib/store/room_state_store.ts";
import { MemoryStore } from "../../lib/store/memory_store.ts";

interface Peer {
  got: ServerFrame[];
}

/** A hasher whose "hash" is the password reversed, answering only when the test calls `release`. */
class FakeHasher implements PasswordHasher {
  readonly waiting: (() => void)[] = [];
  hash(password: string): Promise<PasswordRecord> {
    return this.#later({ algo: "scrypt", N: 1, r: 1, p: 1, salt: "", hash: [...password].reverse().join("") });
  }
  verify(password: string, record: PasswordRecord): Promise<boolean> {
    return this.#later([...password].reverse().join("") === record.hash);
  }
  #later<T>(value: T): Promise<T> {
    return new Promise((resolve) => this.waiting.push(() => resolve(value)));
  }
  /** Answers every waiting request and lets the continuations run. */
  async release(): Promise<void> {
    while (this.waiting.length > 0) {
      for (const answer of this.waiting.splice(0)) answer();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

let settings: Settings;
let hub: Hub<Peer>;
let hasher: FakeHasher;
let accounts: MemoryAccountStore;
let rooms: MemoryRoomStateStore;
let audit: AuditEvent[];
let now: number;

beforeEach(() => {
  settings = defaultSettings();
  settings.operators = "root";
  hasher = new FakeHasher();
  accounts = new MemoryAccountStore();
  rooms = new MemoryRoomStateStore();
  audit = [];
  now = 1_000_000;
  const sink: HubSink<Peer> = {
    send: (to, frame) => to.peer.got.push(frame),
    broadcast: (to, frame, except) => {
      for (const s of to) if (s !== except) s.peer.got.push(frame);
    },
    close: () => {},
    audit: (event) => audit.push(event),
  };
  hub = new Hub<Peer>(settings, "test", sink, { roomLog: new MemoryStore(), accounts, roomStates: rooms, hasher, now: () => now });
});

const connect = (address = "10.0.0.1") => hub.attach({ got: [] }, now, address);
const send = (s: Session<Peer>, frame: ClientFrame) => hub.handle(s, frame, now);
const types = (s: Session<Peer>) => s.peer.got.map((f) => f.type + ("code" in f ? `:${f.code}` : ""));
async function registered(nick: string, password: string): Promise<Session<Peer>> {
  const s = connect();
  send(s, { type: "hello", nick });
  send(s, { type: "register", password });
  await hasher.release();
  expect(s.account?.name).toBe(nick);
  s.peer.got.length = 0;
  return s;
}

describe("accounts in the hub", () => {
  test("frames that arrive during a password check are handled after its answer, in order", async () => {
    const owner = await registered("amy", "correct-horse");
    hub.detach(owner, "quit");
    const s = connect();
    send(s, { type: "hello", nick: "amy", password: "correct-horse", id: "h" });
    send(s, { type: "join", room: "dev", id: "j" });
    send(s, { type: "ping", t: 1, id: "p" });
    expect(s.peer.got).toEqual([]);
    await hasher.release();
    expect(types(s)).toEqual(["welcome", "room", "join", "room", "join", "pong"]);
    expect(s.peer.got[0]).toMatchObject({ account: "amy", id: "h" });
  });

  test("a session that leaves while its password is checked takes no nick, but its wrong guess still counts", async () => {
    const owner = await registered("bo", "correct-horse");
    hub.detach(owner, "quit");
    for (let i = 0; i < 5; i++) {
      const s = connect("10.9.9.9");
      send(s, { type: "hello", nick: "bo", password: `guess-${i}` });
      hub.detach(s, "disconnect");
      await hasher.release();
      expect(s.peer.got).toEqual([]);
    }
    const honest = connect("10.1.1.1");
    send(honest, { type: "hello", nick: "bo", password: "correct-horse" });
    expect(honest.peer.got[0]).toMatchObject({ type: "error", code: "rate_limited" });
    expect(hub.counts().registered).toBe(0);
    expect(audit.filter((a) => a.action === "login_failed")).toHaveLength(5);
  });

  test("a session that leaves while its registration is hashed leaves no account behind", async () => {
    const s = connect();
    send(s, { type: "hello", nick: "cy" });
    send(s, { type: "register", password: "correct-horse" });
    hub.detach(s, "disconnect");
    await hasher.release();
    expect(accounts.get("cy")).toBeUndefined();
  });

  test("held frames are bounded: past 32, frames are refused with rate_limited", () => {
    accounts.create({ key: "dee", name: "dee", password: { algo: "scrypt", N: 1, r: 1, p: 1, salt: "", hash: "x" }, created: 0 });
    const s = connect();
    send(s, { type: "hello", nick: "dee", password: "whatever" });
    for (let i = 0; i < 40; i++) send(s, { type: "ping", t: i });
    expect(types(s)).toEqual(Array(8).fill("error:rate_limited"));
  });

  test("a guest creator who registers becomes its rooms' account operator, kept by the store", async () => {
    const s = connect();
    send(s, { type: "hello", nick: "eve" });
    send(s, { type: "join", room: "den" });
    send(s, { type: "register", password: "correct-horse" });
    await hasher.release();
    expect(rooms.load("den")?.operators).toEqual(["eve"]);
    send(s, { type: "drop", password: "correct-horse" });
    await hasher.release();
    expect(rooms.load("den")?.operators).toEqual([]);
    expect(s.account).toBeNull();
  });
});

describe("moderation state in the hub", () => {
  test("topic, modes, account operators and bans are written to the room-state store and read back for a new room", async () => {
    const root = await registered("root", "root-password");
    send(root, { type: "join", room: "keep" });
    send(root, { type: "topic", room: "keep", topic: "kept" });
    send(root, { type: "mode", room: "keep", key: "k1", invite_only: true });
    const guest = connect();
    send(guest, { type: "hello", nick: "gus" });
    send(root, { type: "ban", room: "keep", nick: "gus", reason: "r" });
    expect(rooms.load("keep")).toMatchObject({
      topic: { text: "kept", by: "root" },
      modes: { invite_only: true, key: "k1", topic_lock: true },
      bans: [{ mask: "nick:gus", by: "root", reason: "r" }],
    });
    // The default room is operated by server operators only: its first joiner gets nothing.
    expect(rooms.load("lobby")).toBeUndefined();
  });

  test("a room re-made from kept state does not make its new creator an operator when it has account operators", () => {
    rooms.setOperator("old", "ada", true);
    rooms.setTopic("old", { text: "from before", by: "ada", ts: 1 });
    const s = connect();
    send(s, { type: "hello", nick: "zed" });
    s.peer.got.length = 0;
    send(s, { type: "join", room: "old" });
    expect(s.peer.got[0]).toMatchObject({ type: "room", topic: "from before", ops: ["ada"] });
    send(s, { type: "mode", room: "old", invite_only: true });
    expect(s.peer.got.at(-1)).toMatchObject({ type: "error", code: "not_op" });
  });
});

describe("who operates a room", () => {
  test("the first to join an empty room operates it, as on IRC, even when the room was kept for its history", () => {
    const a = connect();
    send(a, { type: "hello", nick: "ann" });
    send(a, { type: "join", room: "den" });
    send(a, { type: "msg", room: "den", text: "kept" });
    send(a, { type: "leave", room: "den" });
    const b = connect();
    send(b, { type: "hello", nick: "ben" });
    send(b, { type: "join", room: "den" });
    send(a, { type: "join", room: "den" });
    b.peer.got.length = 0;
    send(b, { type: "who", room: "den" });
    const who = b.peer.got[0] as Extract<ServerFrame, { type: "who" }>;
    expect(who.users.find((u) => u.nick === "ben")).toMatchObject({ op: true });
    expect(who.users.find((u) => u.nick === "ann")?.op).toBeUndefined();
  });
});

describe("stores that answer after a round trip (as Redis will)", () => {
  /** Wraps every method of `target` so it answers with a promise. */
  function later<T extends object>(target: T): T {
    return new Proxy(target, {
      get(obj, key) {
        const value = Reflect.get(obj, key);
        return typeof value === "function" ? (...args: unknown[]) => Promise.resolve(value.apply(obj, args)) : value;
      },
    });
  }

  test("hello, register and a join of a kept room work, in order, with asynchronous stores", async () => {
    rooms.setTopic("kept", { text: "still here", by: "ada", ts: 1 });
    rooms.setOperator("kept", "ada", true);
    hub = new Hub<Peer>(settings, "test", {
      send: (to, frame) => to.peer.got.push(frame),
      broadcast: (to, frame, except) => {
        for (const s of to) if (s !== except) s.peer.got.push(frame);
      },
      close: () => {},
    }, { roomLog: new MemoryStore(), accounts: later(accounts), roomStates: later(rooms), hasher, now: () => now });
    const s = connect();
    send(s, { type: "hello", nick: "ann", id: "h" });
    send(s, { type: "join", room: "kept", id: "j" });
    send(s, { type: "register", password: "correct-horse", id: "r" });
    send(s, { type: "ping", id: "p" });
    // Store answers and hashes alternate: let each round settle.
    for (let i = 0; i < 10; i++) {
      await hasher.release();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const answers = s.peer.got.filter((f) => "id" in f && f.id !== undefined).map((f) => `${(f as { id: string }).id}:${f.type}`);
    expect(answers).toEqual(["h:welcome", "j:room", "r:account", "p:pong"]);
    expect(s.peer.got.find((f) => f.type === "room" && f.room === "kept")).toMatchObject({ topic: "still here", ops: ["ada"] });
    expect(accounts.get("ann")?.name).toBe("ann");
  });

  test("a room whose kept state cannot be read is not made (its bans would be lost): unavailable", async () => {
    const failing = later(rooms);
    failing.load = (() => Promise.reject(new Error("connection reset"))) as never;
    hub = new Hub<Peer>(settings, "test", { send: (to, f) => to.peer.got.push(f), broadcast: () => {}, close: () => {} }, {
      roomLog: new MemoryStore(),
      accounts,
      roomStates: failing,
      hasher,
      now: () => now,
    });
    const s = connect();
    send(s, { type: "hello", nick: "ann" });
    s.peer.got.length = 0;
    send(s, { type: "join", room: "vault", id: "j" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The default room after welcome, then the asked-for room: neither is made without its kept state.
    expect(s.peer.got).toEqual([
      expect.objectContaining({ type: "error", code: "unavailable", message: expect.stringContaining("#lobby") }),
      expect.objectContaining({ type: "error", code: "unavailable", id: "j" }),
    ]);
    expect(hub.counts().rooms).toBe(0);
  });
});
