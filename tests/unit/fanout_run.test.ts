/** Fan-out runs queue a turn's msg frames to a room once, and never change what each member receives or in what order. */
import { describe, expect, test } from "bun:test";
import { FanoutRuns, type RunMember } from "../../lib/server/fanout_run.ts";
import { Room } from "../../lib/hub/room.ts";
import type { Session } from "../../lib/hub/session.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";

const decoder = new TextDecoder();

/** A member that records what it was queued, chunk by chunk, ending an open run first (as Connection.enqueue does). */
class Member implements RunMember {
  fanoutRun: { end(): void } | null = null;
  readonly chunks: string[] = [];
  constructor(readonly dialect = "json", readonly transport = { framed: false }) {}
  enqueue(bytes: Uint8Array): void {
    if (this.fanoutRun !== null) this.fanoutRun.end();
    this.chunks.push(decoder.decode(bytes));
  }
  get lines(): string[] {
    return this.chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).text ?? JSON.parse(l).type);
  }
}

type Fake = Session<Member>;
const session = (nick: string, member = new Member()) => ({ nick, peer: member }) as unknown as Fake;
const msg = (text: string, seq = 1): ServerFrame => ({ type: "msg", room: "r", from: "pub", text, seq, ts: 1 });

function setup(max_pending = 1 << 20) {
  let wakes = 0;
  const runs = new FanoutRuns<Member>({ max_pending }, () => wakes++);
  const room = new Room<Member>("r", 10, "e");
  const [pub, a, b] = [session("pub"), session("a"), session("b")];
  for (const s of [pub, a, b]) room.addMember(s);
  return { runs, room, pub, a, b, wakes: () => wakes };
}

describe("FanoutRuns", () => {
  test("a turn's messages reach every member but the sender as one shared buffer, in order", () => {
    const { runs, room, pub, a, b, wakes } = setup();
    for (const text of ["one", "two", "three"]) expect(runs.broadcast(room.members, msg(text), pub)).toBe(2);
    expect(a.peer.chunks).toEqual([]);
    expect(wakes()).toBe(1);
    runs.end();
    expect(a.peer.lines).toEqual(["one", "two", "three"]);
    expect(a.peer.chunks).toHaveLength(1);
    expect(b.peer.chunks).toEqual(a.peer.chunks);
    expect(pub.peer.chunks).toEqual([]);
    expect(a.peer.fanoutRun).toBeNull();
  });

  test("a frame queued to one member mid-turn comes after the messages before it and before the ones after", () => {
    const { runs, room, pub, a, b } = setup();
    runs.broadcast(room.members, msg("one"), pub);
    a.peer.enqueue(new TextEncoder().encode(JSON.stringify({ type: "dm", text: "private" }) + "\n"));
    // The sender's own acknowledgement does not end the run: the sender is not in it.
    pub.peer.enqueue(new TextEncoder().encode(JSON.stringify({ type: "msg", text: "ack" }) + "\n"));
    runs.broadcast(room.members, msg("two"), pub);
    runs.end();
    expect(a.peer.lines).toEqual(["one", "private", "two"]);
    expect(b.peer.lines).toEqual(["one", "two"]);
    expect(pub.peer.lines).toEqual(["ack"]);
  });

  test("someone who joins mid-turn gets the messages sent after the join", () => {
    const { runs, room, pub, a } = setup();
    runs.broadcast(room.members, msg("before"), pub);
    const late = session("late");
    room.addMember(late);
    runs.broadcast(room.members, msg("after"), pub);
    runs.end();
    expect(a.peer.lines).toEqual(["before", "after"]);
    expect(late.peer.lines).toEqual(["after"]);
  });

  test("other frame types, WebSocket or text members leave the frame to the caller after ending the run", () => {
    const { runs, room, pub, a } = setup();
    runs.broadcast(room.members, msg("one"), pub);
    expect(runs.broadcast(room.members, { type: "presence", nick: "x", status: "away" } as ServerFrame, pub)).toBe(-1);
    expect(a.peer.lines).toEqual(["one"]);
    const ws = session("ws", new Member("json", { framed: true }));
    const other = new Room<Member>("o", 10, "e");
    for (const s of [a, ws]) other.addMember(s);
    expect(runs.broadcast(other.members, msg("two"), undefined)).toBe(-1);
    expect(a.peer.fanoutRun).toBeNull();
  });

  test("a run ends before it holds more than max_pending bytes, so each member's bound is checked as it grows", () => {
    const frame = msg("x".repeat(100));
    const size = JSON.stringify(frame).length + 1;
    const { runs, room, pub, a } = setup(size * 3);
    for (let i = 0; i < 7; i++) runs.broadcast(room.members, frame, pub);
    // Three frames per run: two runs ended on their own, the third holds the last frame until the pass.
    expect(a.peer.chunks.map((c) => c.length)).toEqual([size * 3, size * 3]);
    runs.end();
    expect(a.peer.chunks.map((c) => c.length)).toEqual([size * 3, size * 3, size]);
  });
});
