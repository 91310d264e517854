/**
 * The crowd rule (PROTOCOL section 15) with a fake clock: the pure summary
 * logic, then the hub applying it to joins, leaves, presence, snapshots and
 * `who` paging.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { CrowdSummaries, isCrowded } from "../../lib/hub/crowd.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { Session } from "../../lib/hub/session.ts";
import type { ClientFrame } from "../../lib/protocol/client_frames.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";

describe("crowd summaries (pure)", () => {
  const room = (size: number) => ({ name: "lobby", members: { size } });

  test("a room is crowded above crowd_size, counting the member concerned", () => {
    expect(isCrowded(500, 500)).toBe(false);
    expect(isCrowded(501, 500)).toBe(true);
  });

  test("nothing is due when nothing happened", () => {
    const crowd = new CrowdSummaries();
    expect(crowd.due(0, 2000)).toEqual([]);
    expect(crowd.due(10_000, 2000)).toEqual([]);
  });

  test("one summary per interval with the counts since the last one; a quiet room is forgotten", () => {
    const lobby = room(600);
    const crowd = new CrowdSummaries<typeof lobby>();
    crowd.record(lobby, "joined");
    crowd.record(lobby, "joined");
    crowd.record(lobby, "left");
    expect(crowd.due(1000, 2000).map((d) => d.frame)).toEqual([
      { type: "crowd", room: "lobby", joined: 2, left: 1, member_count: 600 },
    ]);
    crowd.record(lobby, "joined");
    expect(crowd.due(1500, 2000)).toEqual([]);
    expect(crowd.due(2999, 2000)).toEqual([]);
    expect(crowd.due(3000, 2000).map((d) => d.frame.joined)).toEqual([1]);
    expect(crowd.due(5000, 2000)).toEqual([]); // Nothing happened since: nothing sent...
    expect(crowd.size).toBe(0); // ...and the room is no longer tracked.
  });
});

/** A fake client: what it was sent. */
interface Peer {
  got: ServerFrame[];
}

class RecordingSink implements HubSink<Peer> {
  send(to: Session<Peer>, frame: ServerFrame) {
    to.peer.got.push(frame);
  }
  broadcast(to: Iterable<Session<Peer>>, frame: ServerFrame, except?: Session<Peer>) {
    for (const s of to) if (s !== except) s.peer.got.push(frame);
  }
  close() {}
}

let settings: Settings;
let hub: Hub<Peer>;
let now: number;
let everyone: Session<Peer>[];

beforeEach(() => {
  settings = { ...defaultSettings(), crowd_size: 3, crowd_interval: 2000, snapshot_members: 3, rate_per_s: 0 };
  hub = new Hub<Peer>(settings, "test", new RecordingSink());
  now = 1_000_000;
  everyone = [];
});

function send(s: Session<Peer>, frame: ClientFrame) {
  hub.handle(s, frame, now);
}
/** Registers a user into the default room, then clears every inbox. */
function user(nick: string): Session<Peer> {
  const s = hub.attach({ got: [] }, now);
  send(s, { type: "hello", nick });
  everyone.push(s);
  clear();
  return s;
}
function clear() {
  for (const s of everyone) s.peer.got.length = 0;
}
const types = (s: Session<Peer>) => s.peer.got.map((f) => f.type);

describe("the crowd rule in the hub", () => {
  test("up to crowd_size members everyone hears each join; above it only the joiner, then one crowd summary", () => {
    const [a, b] = [user("a"), user("b")];
    const c = hub.attach({ got: [] }, now);
    send(c, { type: "hello", nick: "c" }); // The 3rd member: not crowded yet.
    expect(types(a)).toEqual(["join"]);
    everyone.push(c);
    clear();
    const d = hub.attach({ got: [] }, now);
    send(d, { type: "hello", nick: "d" }); // The 4th: crowded.
    expect(types(a)).toEqual([]);
    expect(types(b)).toEqual([]);
    expect(types(d)).toEqual(["welcome", "room", "join"]); // Its own join is still sent to it.
    expect(d.peer.got[1]).toMatchObject({ member_count: 4, members: ["d", "a", "b"] });
    everyone.push(d);
    clear();
    hub.tick(now);
    for (const s of [a, b, c, d]) {
      expect(s.peer.got).toEqual([{ type: "crowd", room: "lobby", joined: 1, left: 0, member_count: 4 }]);
    }
  });

  test("at most one summary per crowd_interval, however many arrive; nothing when nothing happened", () => {
    const first = [user("a"), user("b"), user("c"), user("d")];
    hub.tick(now);
    clear();
    for (let i = 0; i < 50; i++) user(`n${i}`);
    now += 1000;
    hub.tick(now); // Within the interval of the last summary.
    expect(types(first[0])).toEqual([]);
    now += 1000;
    hub.tick(now);
    now += 500;
    hub.tick(now);
    expect(first[0].peer.got).toEqual([{ type: "crowd", room: "lobby", joined: 50, left: 0, member_count: 54 }]);
    clear();
    now += 10_000;
    hub.tick(now);
    expect(types(first[0])).toEqual([]);
  });

  test("crossing back below crowd_size: the pending departures are summarised, then leaves are sent one by one", () => {
    const users = [user("a"), user("b"), user("c"), user("d"), user("e")];
    hub.tick(now);
    clear();
    hub.detach(users[4], "quit"); // 5 -> 4: crowded, summarised.
    expect(types(users[0])).toEqual([]);
    hub.detach(users[3], "quit"); // 4 -> 3: the room had 4 with d, still crowded.
    expect(types(users[0])).toEqual([]);
    hub.detach(users[2], "quit"); // 3 -> 2: not crowded: sent at once, with presence offline.
    expect(users[0].peer.got).toEqual([
      { type: "leave", room: "lobby", nick: "c", reason: "quit" },
      { type: "presence", nick: "c", status: "offline", reason: "quit" },
    ]);
    clear();
    now += 2000;
    hub.tick(now);
    expect(users[0].peer.got).toEqual([{ type: "crowd", room: "lobby", joined: 0, left: 2, member_count: 2 }]);
  });

  test("an explicit leave in a crowded room: left to the leaver, the rest only in the summary", () => {
    const users = [user("a"), user("b"), user("c"), user("d")];
    send(users[3], { type: "leave", room: "lobby", id: "l" });
    expect(users[3].peer.got).toEqual([{ type: "left", room: "lobby", id: "l" }]);
    expect(types(users[0])).toEqual([]);
  });

  test("presence and nick changes reach only those who share a room of at most crowd_size members", () => {
    const [a, b, c, d] = [user("a"), user("b"), user("c"), user("d")]; // lobby has 4: crowded.
    send(a, { type: "join", room: "small" });
    send(b, { type: "join", room: "small" });
    clear();
    send(a, { type: "status", status: "away", note: "lunch" });
    expect(types(b)).toEqual(["presence"]);
    expect(types(c)).toEqual([]);
    expect(types(a)).toEqual(["presence"]); // Its own copy.
    clear();
    send(a, { type: "nick", nick: "ada" });
    expect(b.peer.got).toEqual([{ type: "nick", old: "a", new: "ada" }]);
    expect(types(d)).toEqual([]);
    expect(types(a)).toEqual(["nick"]);
  });

  test("a join costs O(1) frames and a snapshot of at most snapshot_members nicks, the joiner first", () => {
    for (let i = 0; i < 100; i++) user(`u${String(i).padStart(3, "0")}`);
    let delivered = 0;
    for (const s of everyone) delivered += s.peer.got.length;
    expect(delivered).toBe(0);
    const late = hub.attach({ got: [] }, now);
    send(late, { type: "hello", nick: "late" });
    for (const s of everyone) delivered += s.peer.got.length;
    expect(delivered).toBe(0);
    expect(types(late)).toEqual(["welcome", "room", "join"]);
    expect(late.peer.got[1]).toMatchObject({ members: ["late", "u000", "u001"], member_count: 101 });
  });
});

describe("who paging", () => {
  test("pages in casefolded order with member_count and next; every member exactly once", () => {
    // late1 and late0: their confusable skeletons (the uniqueness key) sort the other way round.
    const nicks = ["Zed", "amy", "Bob", "carl", "Dora", "eve", "Finn", "late1", "late0"];
    const users = nicks.map(user);
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      send(users[0], { type: "who", room: "lobby", limit: 3, ...(after ? { after } : {}) });
      const answer = users[0].peer.got.at(-1)! as Extract<ServerFrame, { type: "who" }>;
      expect(answer.member_count).toBe(9);
      seen.push(...answer.users.map((u) => u.nick));
      after = answer.next;
      if (after === undefined) break;
      expect(after).toBe(answer.users.at(-1)!.nick);
    }
    expect(seen).toEqual(["amy", "Bob", "carl", "Dora", "eve", "Finn", "late0", "late1", "Zed"]);
  });

  test("paging is stable across renames, arrivals and a nick that left", () => {
    const users = ["a", "c", "e"].map(user);
    send(users[1], { type: "nick", nick: "zz" });
    user("b");
    send(users[0], { type: "who", room: "lobby", after: "bb", limit: 10 });
    expect((users[0].peer.got.at(-1) as { users: { nick: string }[] }).users.map((u) => u.nick)).toEqual(["e", "zz"]);
    send(users[0], { type: "who", room: "lobby" });
    const all = users[0].peer.got.at(-1)!;
    expect(all).toMatchObject({ member_count: 4 });
    expect("next" in all).toBe(false);
  });
});
