/** Fan-out runs queue a turn's msg frames to a room once, and never change what each member receives or in what order. */
import { describe, expect, test } from "bun:test";
import { FanoutRuns, type RunMember } from "../../lib/server/fanout_run.ts";
import { Room } from "../../lib/hub/room.ts";
import type { Session } from "../../lib/hub/session.ts";
import { encodeJsonFrame, type ServerFrame } from "../../lib/protocol/server_frames.ts";

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
  /** What ChatServer.broadcast does: through the run, or else frame by frame. */
  const send = (to: Set<Fake>, frame: ServerFrame, except?: Fake) => {
    const queued = runs.broadcast(to, frame, except);
    if (queued >= 0) return queued;
    for (const s of to) if (s !== except) s.peer.enqueue(encodeJsonFrame(frame));
    return -1;
  };
  return { runs, room, pub, a, b, send, wakes: () => wakes };
}

describe("FanoutRuns", () => {
  test("a turn's messages after the first reach every member but the sender as one shared buffer, in order", () => {
    const { runs, room, pub, a, b, send, wakes } = setup();
    expect(["one", "two", "three", "four"].map((text) => send(room.members, msg(text), pub))).toEqual([-1, 2, 2, 2]);
    expect(a.peer.chunks).toEqual([`${JSON.stringify(msg("one"))}\n`]);
    expect(wakes()).toBe(1);
    runs.endPass();
    expect(a.peer.lines).toEqual(["one", "two", "three", "four"]);
    expect(a.peer.chunks).toHaveLength(2);
    expect(b.peer.chunks).toEqual(a.peer.chunks);
    expect(pub.peer.chunks).toEqual([]);
    expect(a.peer.fanoutRun).toBeNull();
    // A new pass: its first message goes frame by frame again.
    expect(send(room.members, msg("five"), pub)).toBe(-1);
    expect(a.peer.lines).toEqual(["one", "two", "three", "four", "five"]);
  });

  test("a frame queued to one member mid-turn comes after the messages before it and before the ones after", () => {
    const { runs, room, pub, a, b, send } = setup();
    send(room.members, msg("zero"), pub);
    send(room.members, msg("one"), pub);
    a.peer.enqueue(new TextEncoder().encode(JSON.stringify({ type: "dm", text: "private" }) + "\n"));
    // The sender's own acknowledgement does not end the run: the sender is not in it.
    pub.peer.enqueue(new TextEncoder().encode(JSON.stringify({ type: "msg", text: "ack" }) + "\n"));
    send(room.members, msg("two"), pub);
    runs.endPass();
    expect(a.peer.lines).toEqual(["zero", "one", "private", "two"]);
    expect(b.peer.lines).toEqual(["zero", "one", "two"]);
    expect(pub.peer.lines).toEqual(["ack"]);
  });

  test("someone who joins mid-turn gets the messages sent after the join", () => {
    const { runs, room, pub, a, send } = setup();
    send(room.members, msg("zero"), pub);
    send(room.members, msg("before"), pub);
    const late = session("late");
    room.addMember(late);
    send(room.members, msg("after"), pub);
    send(room.members, msg("later"), pub);
    runs.endPass();
    expect(a.peer.lines).toEqual(["zero", "before", "after", "later"]);
    expect(late.peer.lines).toEqual(["after", "later"]);
  });

  test("other frame types, WebSocket or text members leave the frame to the caller after ending the run", () => {
    const { room, pub, a, send } = setup();
    send(room.members, msg("zero"), pub);
    send(room.members, msg("one"), pub);
    expect(send(room.members, { type: "presence", nick: "x", status: "away" } as ServerFrame, pub)).toBe(-1);
    expect(a.peer.lines).toEqual(["zero", "one", "presence"]);
    const ws = session("ws", new Member("json", { framed: true }));
    const other = new Room<Member>("o", 10, "e");
    for (const s of [a, ws]) other.addMember(s);
    expect([send(other.members, msg("two")), send(other.members, msg("three"))]).toEqual([-1, -1]);
    expect(a.peer.fanoutRun).toBeNull();
    expect(ws.peer.lines).toEqual(["two", "three"]);
  });

  test("a run ends before it holds more than max_pending bytes, so each member's bound is checked as it grows", () => {
    const frame = msg("x".repeat(100));
    const size = JSON.stringify(frame).length + 1;
    const { runs, room, pub, a, send } = setup(size * 3);
    for (let i = 0; i < 8; i++) send(room.members, frame, pub);
    // The first frame by itself, then three per run: two runs ended on their own, the third holds the last frame.
    expect(a.peer.chunks.map((c) => c.length)).toEqual([size, size * 3, size * 3]);
    runs.endPass();
    expect(a.peer.chunks.map((c) => c.length)).toEqual([size, size * 3, size * 3, size]);
  });
});
