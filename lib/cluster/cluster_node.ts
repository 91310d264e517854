/**
 * One node of a cluster: the hub's {@linkcode HubCluster}, over Redis.
 *
 * - Rooms: the node subscribes to the channel of every room a local user is
 *   in (before reading its seq), and {@linkcode RoomFeeds} delivers each
 *   room's messages in seq order, filling gaps from the stream.
 * - Members, nicks, DMs: small scripts (`cluster_scripts.ts`), one round
 *   trip each; events reach other nodes on the room's channel, DMs on the
 *   recipient node's channel.
 * - Liveness: the node renews a lease (`node_lease`); every node sweeps for
 *   nodes whose lease lapsed, and one of them (a lock) ends that node's
 *   users' memberships and nicks, announcing `leave` and `offline` once.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { ClusterMember, ClusterRoom, HubCluster, RelayReply, RemoteAction, RoomStateChange } from "../hub/hub_cluster.ts";
import type { MsgFrame, ServerFrame } from "../protocol/server_frames.ts";
import type { StoredRoom } from "../store/types.ts";
import { CLAIM_NICK, MEMBER_EVENT, PUBLISH, REAP_NODE, RELEASE_NICK, SEND_DM } from "./cluster_scripts.ts";
import {
  NODES_KEY,
  nickKeyOf,
  nodeAliveKey,
  nodeChannel,
  nodeHoldingsKey,
  nodeReaperKey,
  roomChannel,
  roomMembersKey,
  roomMetaKey,
  ROOMS_KEY,
} from "./redis_keys.ts";
import { guestOpCommand, guestOpsKey, MEMBERS_AND_GUEST_OPS, NICK_PREFIX } from "./guest_operators.ts";
import type { RedisLink, Reply } from "./redis_link.ts";
import type { RedisRoomLog } from "./redis_room_log.ts";
import type { StateNote } from "./redis_room_state_store.ts";
import { type FeedTarget, RoomFeeds } from "./room_feeds.ts";

/** What the node needs of the hub besides the feeds. */
export interface ClusterHub extends FeedTarget {
  relayEvent(rooms: string[], frame: ServerFrame): void;
  deliverDm(key: string, frame: ServerFrame): boolean;
  /** Another node changed a room's kept state (topic, modes, operators, bans): apply it to the live copy. */
  roomStateChanged(room: string, change: RoomStateChange): void;
  /** An event from another node for the operators of `room` here only (`ban`, `unban`); `reply` names who asked for it. */
  relayToOperators(room: string, frame: ServerFrame, reply?: RelayReply): void;
  /** A moderation action from another node on the local holder of `key`. */
  remoteAction(key: string, action: RemoteAction): void;
  /** Redis is back: re-read the kept state of every followed room (changes published meanwhile were missed). */
  reloadRoomStates(): void;
  roomNames(): string[];
  localUsers(): { session: LocalSession; member: ClusterMember; rooms: string[] }[];
  end(session: LocalSession, reason: "shutdown"): void;
}

/** What the node reads of a local session. */
export interface LocalSession {
  readonly id: string;
  nickKey: string | null;
}

/** Where the node reports what happens (a logger in production, nothing in tests). */
export interface ClusterReport {
  info(message: string, properties?: Record<string, unknown>): void;
  warning(message: string, properties?: Record<string, unknown>): void;
}

/**
 * An event on a room channel: from node `n`, frame `f`; `x` and `r` for one
 * event sent to several rooms; `o` for the room's operators only; `i` the
 * session (on some other node) whose frame it answers.
 */
interface RoomEvent {
  n: string;
  f: ServerFrame;
  x?: string;
  r?: string[];
  o?: 1;
  i?: RelayReply;
}

/** How many event ids a node remembers to tell each event once. */
const SEEN_EVENTS = 4096;
/** The most rooms a `rooms` answer lists. */
const MAX_LISTED_ROOMS = 1000;

/** The frame with `type` as its first key, as every server frame is sent (JSON from Lua has no key order). */
function typeFirst(frame: ServerFrame): ServerFrame {
  return Object.assign({ type: frame.type }, frame) as ServerFrame;
}

/** A hash's fields and values, whichever shape the client gave them (a flat array or an object). */
function hashEntries(reply: unknown): [string, string][] {
  if (!Array.isArray(reply)) return Object.entries((reply ?? {}) as Record<string, string>);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
  return out;
}

/** A fresh node id: short, random, shown in every log line. */
export function newNodeId(): string {
  return Math.floor(Math.random() * 36 ** 8).toString(36).padStart(8, "0");
}

/** This node's part in the cluster. */
export class ClusterNode implements HubCluster {
  readonly feeds: RoomFeeds;
  readonly #subscribed = new Map<string, Promise<void>>();
  readonly #pendingNicks = new Set<string>();
  readonly #seen = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Users of dead nodes whose memberships this node ended. */
  reaped = 0;

  constructor(
    readonly id: string,
    readonly link: RedisLink,
    readonly log: RedisRoomLog,
    readonly hub: ClusterHub,
    readonly settings: Pick<Settings, "node_lease">,
    readonly report: ClusterReport,
  ) {
    this.feeds = new RoomFeeds(
      hub,
      (room, after, limit) => log.pageRelayed(room, { after, limit }),
      (error) => report.warning("catching up a room failed: {error}", { error: String(error) }),
    );
    link.onResubscribed = () => this.#resume();
  }

  /** Announces the node, listens on its channel and starts the lease and the sweep. */
  async start(): Promise<void> {
    await this.#renew();
    await this.link.subscribe(nodeChannel(this.id), (payload) => this.#onNodePayload(payload));
    const everyMs = Math.max(100, Math.floor(this.settings.node_lease / 3));
    this.#timer = setInterval(() => void this.#tick(), everyMs);
  }

  /** Leaves the cluster: this node's users leave their rooms (reason `shutdown`) and free their nicks. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#reap(this.id, "shutdown").catch(() => {});
  }

  async openRoom(name: string): Promise<StoredRoom> {
    let subscribed = this.#subscribed.get(name);
    if (!subscribed) {
      subscribed = this.link.subscribe(roomChannel(name), (payload) => this.#onRoomPayload(name, payload));
      this.#subscribed.set(name, subscribed);
      subscribed.catch(() => this.#subscribed.get(name) === subscribed && this.#subscribed.delete(name));
    }
    await subscribed;
    return await this.log.open(name);
  }

  closeRoom(name: string): void {
    if (!this.#subscribed.delete(name)) return;
    void this.link.unsubscribe(roomChannel(name));
  }

  appended(msg: MsgFrame, origin: string | undefined): void {
    this.feeds.fromReply({ msg, origin });
  }

  async claimNick(key: string, nick: string, sessionId: string): Promise<boolean> {
    // Two sessions of this node claiming one nick at once: the second waits for nobody, it is refused.
    if (this.#pendingNicks.has(key)) return false;
    this.#pendingNicks.add(key);
    try {
      const reply = await this.link.call(["EVAL", CLAIM_NICK, 2, nickKeyOf(key), nodeHoldingsKey(this.id), this.id, sessionId, key, nick]);
      return reply === 1;
    } finally {
      this.#pendingNicks.delete(key);
    }
  }

  releaseNick(key: string, sessionId: string): void {
    this.link.call(["EVAL", RELEASE_NICK, 2, nickKeyOf(key), nodeHoldingsKey(this.id), this.id, sessionId, key]).catch((error) =>
      // The claim stays until this node's lease lapses or this node claims the nick again.
      this.report.warning("cannot release nick {key}: {error}", { key, error: String(error) })
    );
  }

  memberEvent(
    room: string,
    key: string,
    member: ClusterMember | null,
    frame: ServerFrame,
    options: { dedupe?: string; rooms?: string[]; oldKey?: string; countDelta?: number } = {},
  ): Promise<boolean> {
    const event: RoomEvent = { n: this.id, f: frame };
    if (options.dedupe !== undefined) {
      event.x = options.dedupe;
      event.r = options.rooms;
    }
    return this.link.call([
      "EVAL",
      MEMBER_EVENT,
      3,
      roomMembersKey(room),
      ROOMS_KEY,
      nodeHoldingsKey(this.id),
      room,
      key,
      member === null ? "" : JSON.stringify(member),
      options.oldKey ?? "",
      options.countDelta ?? 0,
      roomChannel(room),
      "e" + JSON.stringify(event),
      member?.nick ?? "",
    ]).then(() => true, (error) => {
      this.report.warning("cannot tell other nodes of {type} in {room}: {error}", { type: frame.type, room, error: String(error) });
      return false;
    });
  }

  /** One EVAL: the member list, guest operators marked `op` (guest_operators.ts). */
  async members(room: string): Promise<ClusterMember[]> {
    const [flat, ops] = await this.link.call(["EVAL", MEMBERS_AND_GUEST_OPS, 2, roomMembersKey(room), guestOpsKey(room), NICK_PREFIX]) as [Reply, Reply[]];
    const guestOps = new Set(ops.map(String));
    return hashEntries(flat).map(([key, json]) => {
      const member = JSON.parse(json) as ClusterMember;
      if (guestOps.has(key)) member.op = true;
      return member;
    });
  }

  guestOperator(room: string, key: string, sessionId: string, op: boolean): void {
    this.link.call(guestOpCommand(room, key, `${this.id} ${sessionId}`, op)).catch((error) =>
      // Lost: other nodes do not see this guest operator (or see it until its session ends).
      this.report.warning("cannot record guest operator {key} of {room}: {error}", { key, room, error: String(error) })
    );
  }

  async rooms(): Promise<ClusterRoom[]> {
    const rooms = hashEntries(await this.link.call(["HGETALL", ROOMS_KEY])).slice(0, MAX_LISTED_ROOMS);
    const seqs = await Promise.all(rooms.map(([name]) => this.link.call(["HGET", roomMetaKey(name), "seq"])));
    return rooms.map(([name, members], i) => ({ name, members: Number(members), seq: Number(seqs[i] ?? 0) }));
  }

  async sendDm(key: string, frame: ServerFrame): Promise<boolean> {
    return (await this.link.call(["EVAL", SEND_DM, 1, nickKeyOf(key), JSON.stringify({ k: key, f: frame })])) === 1;
  }

  async sendAction(key: string, action: RemoteAction): Promise<boolean> {
    return (await this.link.call(["EVAL", SEND_DM, 1, nickKeyOf(key), JSON.stringify({ k: key, a: action })])) === 1;
  }

  tellRoom(room: string, frame: ServerFrame, operatorsOnly: boolean, reply?: RelayReply): void {
    const event: RoomEvent = { n: this.id, f: frame };
    if (operatorsOnly) event.o = 1;
    if (reply) event.i = reply;
    // An EVAL like the store write before it, so both reach Redis in the order they were issued (see RedisLink.call).
    this.link.call(["EVAL", PUBLISH, 0, roomChannel(room), "e" + JSON.stringify(event)]).catch((error) =>
      this.report.warning("cannot tell other nodes of {type} in {room}: {error}", { type: frame.type, room, error: String(error) })
    );
  }

  #onRoomPayload(room: string, payload: string): void {
    const messages = this.feeds.fromPayload(room, payload);
    if (messages >= 0) return void (this.link.stats.relayed += messages);
    if (payload[0] === "s") {
      const note = JSON.parse(payload.slice(1)) as StateNote;
      if (note.n !== this.id) this.hub.roomStateChanged(room, note.c);
      return;
    }
    if (payload[0] !== "e") return;
    const event = JSON.parse(payload.slice(1)) as RoomEvent;
    // This node told its own members already.
    if (event.n === this.id) return;
    if (event.x !== undefined) {
      if (this.#seen.has(event.x)) return;
      this.#seen.add(event.x);
      if (this.#seen.size > SEEN_EVENTS) this.#seen.delete(this.#seen.values().next().value!);
    }
    this.link.stats.relayed++;
    // Key order as every server frame has it: type first.
    if (event.o === 1) return this.hub.relayToOperators(room, typeFirst(event.f), event.i);
    this.hub.relayEvent(event.r ?? [room], typeFirst(event.f));
  }

  #onNodePayload(payload: string): void {
    const { k, f, a } = JSON.parse(payload) as { k: string; f?: ServerFrame; a?: RemoteAction };
    this.link.stats.relayed++;
    if (a) return this.hub.remoteAction(k, a);
    this.hub.deliverDm(k, typeFirst(f!));
  }

  /** The subscriber connection is back: catch every followed room up from its stream, and put this node's users back on record. */
  #resume(): void {
    this.report.info("Redis is back: catching up {rooms} rooms", { rooms: this.hub.roomNames().length });
    for (const room of this.hub.roomNames()) void this.feeds.catchUp(room);
    this.hub.reloadRoomStates();
    this.reconcile().catch((error) => this.report.warning("cannot put this node's users back on record: {error}", { error: String(error) }));
  }

  /**
   * Makes Redis's record of this node's users match the users here: after
   * an outage, member changes that could not be recorded are, and if the
   * node was taken for dead (its users' leaves announced, nicks freed), its
   * users claim their nicks again and rejoin their rooms (the others see
   * them join). A user whose nick another node took meanwhile is told
   * `bye` `shutdown` (reconnect) rather than hold a nick twice.
   */
  async reconcile(): Promise<void> {
    await this.#renew();
    const recorded = new Map(hashEntries(await this.link.call(["HGETALL", nodeHoldingsKey(this.id)])));
    const wanted = new Set<string>();
    for (const { session, member, rooms } of this.hub.localUsers()) {
      const key = session.nickKey!;
      wanted.add(`@${key}`);
      if (!recorded.has(`@${key}`)) {
        const claimed = await this.link.call(["EVAL", CLAIM_NICK, 2, nickKeyOf(key), nodeHoldingsKey(this.id), this.id, session.id, key, member.nick]);
        if (claimed !== 1) {
          this.report.warning("{nick} was taken on another node while this one was away: ending its session here", { nick: member.nick });
          this.hub.end(session, "shutdown");
          continue;
        }
      }
      for (const room of rooms) {
        wanted.add(`${room}\t${key}`);
        if (recorded.has(`${room}\t${key}`)) continue;
        await this.memberEvent(room, key, member, { type: "join", room, nick: member.nick }, { countDelta: 1 });
      }
    }
    for (const [field, nick] of recorded) {
      if (wanted.has(field)) continue;
      if (field.startsWith("@")) {
        // A nick whose release could not be recorded: free it if this node still holds it.
        const holder = await this.link.call(["GET", nickKeyOf(field.slice(1))]);
        const sessionId = typeof holder === "string" && holder.startsWith(`${this.id} `) ? holder.slice(this.id.length + 1) : "-";
        await this.link.call(["EVAL", RELEASE_NICK, 2, nickKeyOf(field.slice(1)), nodeHoldingsKey(this.id), this.id, sessionId, field.slice(1)]);
        continue;
      }
      const [room, key] = field.split("\t");
      await this.memberEvent(room, key, null, { type: "leave", room, nick, reason: "disconnect" }, { countDelta: -1 });
    }
  }

  async #renew(): Promise<void> {
    await this.link.call(["SET", nodeAliveKey(this.id), "1", "PX", this.settings.node_lease]);
    await this.link.call(["SADD", NODES_KEY, this.id]);
  }

  /** Renews the lease, then looks for nodes whose lease lapsed. */
  async #tick(): Promise<void> {
    if (!this.link.up) return;
    try {
      await this.#renew();
      const nodes = await this.link.call(["SMEMBERS", NODES_KEY]) as string[];
      for (const node of nodes) {
        if (node === this.id || (await this.link.call(["EXISTS", nodeAliveKey(node)])) === 1) continue;
        // One node cleans up; the lock outlives the work.
        const locked = await this.link.call(["SET", nodeReaperKey(node), this.id, "NX", "PX", this.settings.node_lease]);
        if (locked !== "OK") continue;
        const ended = await this.#reap(node, "disconnect");
        this.reaped += ended;
        this.report.warning("node {dead} stopped renewing its lease: ended {ended} memberships of its users", { dead: node, ended });
      }
    } catch {
      // Redis is away: the link reports it, and the next tick tries again.
    }
  }

  async #reap(node: string, reason: string): Promise<number> {
    return Number(await this.link.call(["EVAL", REAP_NODE, 2, nodeHoldingsKey(node), NODES_KEY, node, reason]));
  }
}
