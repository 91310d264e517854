/**
 * The hub's cluster join against a fake cluster whose member records are
 * held until the test lets them through: the shared member count of a room
 * (what `rooms` lists on every node) stays true when the last local member
 * leaves while another's join is still being recorded (found by the cluster
 * soak: a room listed one member after everyone had left).
 */
import { describe, expect, test } from "bun:test";
import { defaultSettings } from "../../lib/config/settings.ts";
import { Hub, type HubSink } from "../../lib/hub/hub.ts";
import type { ClusterMember, ClusterRoom, HubCluster } from "../../lib/hub/hub_cluster.ts";
import type { ClientFrame } from "../../lib/protocol/client_frames.ts";
import type { ServerFrame } from "../../lib/protocol/server_frames.ts";
import type { StoredRoom } from "../../lib/store/types.ts";

interface Peer {
  got: ServerFrame[];
}

const sink: HubSink<Peer> = {
  send: (to, frame) => void to.peer.got.push(frame),
  broadcast: (to, frame, except) => {
    for (const s of to) if (s !== except) s.peer.got.push(frame);
  },
  close: () => {},
};

/** The shared member records (room to nick key to count of records) and counts, with member events held on demand. */
class FakeCluster implements HubCluster {
  readonly counts = new Map<string, number>();
  readonly records = new Map<string, Set<string>>();
  hold = false;
  readonly held: (() => void)[] = [];
  holdOpens = false;
  readonly heldOpens: (() => void)[] = [];

  openRoom(name: string): Promise<StoredRoom> {
    const room = { name, seq: 0, epoch: "e1" };
    if (!this.holdOpens) return Promise.resolve(room);
    return new Promise((resolve) => this.heldOpens.push(() => resolve(room)));
  }
  closeRoom(): void {}
  appended(): void {}
  claimNick(): Promise<boolean> {
    return Promise.resolve(true);
  }
  releaseNick(): void {}
  memberEvent(room: string, key: string, member: ClusterMember | null, _frame: ServerFrame, options: { countDelta?: number } = {}): Promise<boolean> {
    const apply = () => {
      const keys = this.records.get(room) ?? new Set();
      this.records.set(room, keys);
      if (member) keys.add(key);
      else keys.delete(key);
      this.counts.set(room, (this.counts.get(room) ?? 0) + (options.countDelta ?? 0));
    };
    if (!this.hold) {
      apply();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.held.push(() => (apply(), resolve(true))));
  }
  members(): Promise<ClusterMember[]> {
    return Promise.resolve([]);
  }
  rooms(): Promise<ClusterRoom[]> {
    return Promise.resolve([]);
  }
  sendDm(): Promise<boolean> {
    return Promise.resolve(false);
  }
  sendAction(): Promise<boolean> {
    return Promise.resolve(false);
  }
  tellRoom(): void {}
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A hub on a fake cluster with `ann` and `bob` registered. */
async function twoUsers() {
  const settings = { ...defaultSettings(), default_room: "" };
  const hub = new Hub<Peer>(settings, "test", sink);
  const cluster = new FakeCluster();
  hub.cluster = cluster;
  const ann = hub.attach({ got: [] }, now);
  const bob = hub.attach({ got: [] }, now);
  hub.handle(ann, { type: "hello", nick: "ann" }, now);
  hub.handle(bob, { type: "hello", nick: "bob" }, now);
  await settle();
  return { hub, cluster, ann, bob };
}

/**
 * Bob's join (frame `join`) is being recorded in the cluster when Ann, the
 * room's only local member, leaves: the room is dropped under the join.
 * Returns with Bob's record still held (`cluster.held`).
 */
async function joinWhileLastMemberLeaves(
  { hub, cluster, ann, bob }: Awaited<ReturnType<typeof twoUsers>>,
  join: ClientFrame,
): Promise<void> {
  cluster.hold = true;
  hub.handle(bob, join, now);
  await settle();
  cluster.hold = false;
  hub.handle(ann, { type: "leave", room: "r" }, now);
  await settle();
}

const now = 1_000_000;

describe("cluster join", () => {
  test("a join recorded while the room's last local member leaves counts its joiner once", async () => {
    const { hub, cluster, ann, bob } = await twoUsers();
    hub.handle(ann, { type: "join", room: "r" }, now);
    await settle();
    expect(cluster.counts.get("r")).toBe(1);
    await joinWhileLastMemberLeaves({ hub, cluster, ann, bob }, { type: "join", room: "r", id: "j" });
    while (cluster.held.length > 0) cluster.held.shift()!();
    await settle();
    expect(bob.peer.got.find((f) => "id" in f && f.id === "j")).toMatchObject({ type: "room", room: "r" });
    expect([cluster.counts.get("r"), [...cluster.records.get("r")!]]).toEqual([1, ["bob"]]);
    hub.handle(bob, { type: "leave", room: "r" }, now);
    await settle();
    expect([cluster.counts.get("r"), [...cluster.records.get("r")!]]).toEqual([0, []]);
  });

  test("an invited join that starts over because the room's last local member left is not refused for the invite it spent", async () => {
    const { hub, cluster, ann, bob } = await twoUsers();
    hub.handle(ann, { type: "join", room: "r" }, now);
    await settle();
    // Ann, first in the room, operates it as a guest: invite-only, and Bob invited.
    hub.handle(ann, { type: "mode", room: "r", invite_only: true }, now);
    hub.handle(ann, { type: "invite", room: "r", nick: "bob" }, now);
    await joinWhileLastMemberLeaves({ hub, cluster, ann, bob }, { type: "join", room: "r", id: "j" });
    while (cluster.held.length > 0) cluster.held.shift()!();
    await settle();
    expect(bob.peer.got.find((f) => "id" in f && f.id === "j")).toMatchObject({ type: "room", room: "r" });
    expect([cluster.counts.get("r"), [...cluster.records.get("r")!]]).toEqual([1, ["bob"]]);
  });

  test("a joiner who disconnects while its started-over join is under way is taken off record", async () => {
    const { hub, cluster, ann, bob } = await twoUsers();
    hub.handle(ann, { type: "join", room: "r" }, now);
    await settle();
    await joinWhileLastMemberLeaves({ hub, cluster, ann, bob }, { type: "join", room: "r" });
    // Bob's record goes through; its join starts over (the room was dropped), and Bob leaves before the room is open again.
    cluster.holdOpens = true;
    cluster.held.shift()!();
    await settle();
    expect(cluster.heldOpens).toHaveLength(1);
    hub.detach(bob, "disconnect");
    cluster.heldOpens.shift()!();
    while (cluster.held.length > 0) cluster.held.shift()!();
    await settle();
    expect([cluster.counts.get("r"), [...cluster.records.get("r")!]]).toEqual([0, []]);
  });
});
