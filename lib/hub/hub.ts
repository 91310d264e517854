/**
 * The chat hub: sessions, nicks, rooms, history, presence and rate limits as
 * pure logic. It reads time only from the `now` it is given, owns no sockets
 * or timers, and says what to send through a {@linkcode HubSink}; the server
 * turns that into bytes on sockets.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { ClientFrame, ClientFrameOf } from "../protocol/client_frames.ts";
import { nickKey, nickProblem } from "../protocol/names.ts";
import {
  type ByeReason,
  type ErrorCode,
  errorFrame,
  type LeaveReason,
  type ServerFrame,
  withId,
} from "../protocol/server_frames.ts";
import { addStrike, takeToken } from "./rate_limiter.ts";
import { Room } from "./room.ts";
import { ringCapacity, snapshotHistory } from "./room_reads.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { type RoomLog, type StoredRoom, StoreUnavailable, whenReady } from "../store/types.ts";
import { Session } from "./session.ts";
import type { ClusterMember, HubCluster } from "./hub_cluster.ts";
import type { MsgFrame } from "../protocol/server_frames.ts";

/** Where the hub's output goes. Frames passed in must not be mutated afterwards. */
export interface HubSink<P> {
  /** Queues `frame` for one session. */
  send(to: Session<P>, frame: ServerFrame): void;
  /** Queues the same `frame` for every session in `to` except `except`. */
  broadcast(to: Iterable<Session<P>>, frame: ServerFrame, except?: Session<P>): void;
  /** Flushes what is queued for `session`, then closes its connection. */
  close(session: Session<P>, reason: ByeReason): void;
}

/** The settings the hub reads; the object may be updated in place by a reload. */
export type HubSettings = Pick<
  Settings,
  | "server_name"
  | "max_frame"
  | "max_text"
  | "heartbeat_interval"
  | "heartbeat_max_missed"
  | "rate_per_s"
  | "burst"
  | "flood_strikes"
  | "history"
  | "history_on_join"
  | "default_room"
  | "max_rooms"
>;

/** Frame types that spend a rate-limit token. */
const RATE_LIMITED = new Set<ClientFrame["type"]>(["msg", "dm", "join", "status"]);
/** Frame types accepted before `hello`. */
const BEFORE_HELLO = new Set<ClientFrame["type"]>(["hello", "ping", "pong", "quit"]);

/** Counts a server exposes about its hub. */
export interface HubCounts {
  sessions: number;
  registered: number;
  rooms: number;
}

/** Sessions, nicks and rooms. */
export class Hub<P = unknown> {
  readonly #sessions = new Set<Session<P>>();
  readonly #byNick = new Map<string, Session<P>>();
  readonly #rooms = new Map<string, Room<P>>();
  /** Rooms with no members but with history, oldest-emptied first: forgotten first when rooms run out. */
  readonly #emptyRooms = new Map<string, Room<P>>();
  #nextSession = 0;
  #nextRoom = 0;
  readonly #bootId = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0");
  /** Set when this node is one of several sharing a store (see `lib/cluster/`). */
  cluster: HubCluster | undefined;
  #nextEvent = 0;

  constructor(
    readonly settings: HubSettings,
    readonly version: string,
    readonly sink: HubSink<P>,
    /** Where rooms' seq, epoch and messages are kept (memory unless a data directory is used). */
    readonly store: RoomLog = new MemoryStore(),
  ) {}

  /** Brings back rooms the store kept from an earlier run (least recently active first), as empty rooms. */
  restoreRooms(rooms: StoredRoom[]): void {
    for (const { name, seq, epoch } of rooms) {
      const room = new Room<P>(name, ringCapacity(this.settings, this.store), epoch, seq);
      this.#rooms.set(name, room);
      this.#emptyRooms.set(name, room);
    }
  }

  /** Sessions, registered users and rooms right now. */
  counts(): HubCounts {
    return { sessions: this.#sessions.size, registered: this.#byNick.size, rooms: this.#rooms.size };
  }

  /** A new connection arrives; it must `hello` before anything else. */
  attach(peer: P, now: number): Session<P> {
    const id = `${this.#bootId}-${(++this.#nextSession).toString(36)}`;
    const session = new Session(id, peer, this.settings.burst, now);
    this.#sessions.add(session);
    return session;
  }

  /**
   * A connection is gone (or is being closed by the server): its rooms hear
   * `leave` with `reason` and `presence` offline. Safe to call twice.
   */
  detach(session: Session<P>, reason: LeaveReason): void {
    if (session.departed) return;
    session.departed = true;
    this.#sessions.delete(session);
    if (session.nick === null) return;
    const nick = session.nick;
    const neighbours = new Set<Session<P>>();
    const roomNames = [...session.rooms].map((room) => room.name);
    for (const room of session.rooms) {
      this.#removeMember(room, session);
      for (const member of room.members) neighbours.add(member);
      this.sink.broadcast(room.members, { type: "leave", room: room.name, nick, reason });
      this.cluster?.memberEvent(room.name, session.nickKey!, null, { type: "leave", room: room.name, nick, reason }, { countDelta: -1 });
    }
    session.rooms.clear();
    this.#byNick.delete(session.nickKey!);
    this.sink.broadcast(neighbours, { type: "presence", nick, status: "offline", reason });
    if (this.cluster) {
      this.#relayToRooms(roomNames, session.nickKey!, undefined, { type: "presence", nick, status: "offline", reason });
      this.cluster.releaseNick(session.nickKey!, session.id);
    }
  }

  /** Handles one validated frame from `session`. */
  handle(session: Session<P>, frame: ClientFrame, now: number): void {
    if (session.departed) return;
    if (session.nick === null && !BEFORE_HELLO.has(frame.type)) {
      return this.#error(session, "not_registered", "send hello first", frame.id);
    }
    if (RATE_LIMITED.has(frame.type) && !this.#spendToken(session, frame.id, now)) return;
    switch (frame.type) {
      case "hello":
        return this.#hello(session, frame, now);
      case "nick":
        return this.#nick(session, frame);
      case "join":
        return this.#join(session, frame.room, frame.since, frame.id);
      case "leave":
        return this.#leave(session, frame);
      case "msg":
        return this.#msg(session, frame, now);
      case "dm":
        return this.#dm(session, frame, now);
      case "who":
        return this.#who(session, frame);
      case "rooms":
        return this.#listRooms(session, frame.id);
      case "status":
        return this.#status(session, frame, now);
      case "ping":
        return this.sink.send(session, withId({ type: "pong", t: frame.t }, frame.id));
      case "pong":
        return;
      case "quit":
        return this.end(session, "quit", frame.id);
    }
  }

  /** Sends `bye`, tells the session's rooms, and asks the server to close it. */
  end(session: Session<P>, reason: ByeReason, id?: string): void {
    if (session.departed) return;
    this.sink.send(session, withId({ type: "bye", reason }, id));
    this.detach(session, reason);
    this.sink.close(session, reason);
  }

  /**
   * Says `bye` `shutdown` to every session and forgets them all without
   * leave events (everyone is leaving at once). Returns how many were told.
   */
  shutdown(): number {
    const sessions = [...this.#sessions];
    for (const session of sessions) {
      this.sink.send(session, { type: "bye", reason: "shutdown" });
      session.departed = true;
      session.rooms.clear();
      this.sink.close(session, "shutdown");
    }
    this.#sessions.clear();
    this.#byNick.clear();
    this.#rooms.clear();
    this.#emptyRooms.clear();
    return sessions.length;
  }

  /** Spends one token; on refusal answers `rate_limited` and ends a flooding session. */
  #spendToken(session: Session<P>, id: string | undefined, now: number): boolean {
    const { rate_per_s, burst, flood_strikes } = this.settings;
    const retryAfterMs = takeToken(session, rate_per_s, burst, now);
    if (retryAfterMs === 0) return true;
    if (addStrike(session, flood_strikes, now)) {
      this.end(session, "flood");
    } else {
      this.sink.send(
        session,
        errorFrame("rate_limited", `too many frames; retry in ${retryAfterMs} ms`, {
          id,
          retry_after_ms: retryAfterMs,
        }),
      );
    }
    return false;
  }

  #hello(session: Session<P>, frame: ClientFrameOf<"hello">, now: number): void {
    if (session.nick !== null) return this.#error(session, "already_registered", "already registered", frame.id);
    if (this.cluster) {
      return this.#claimClusterNick(session, frame.nick, frame.id, () => this.#welcome(session, frame, now));
    }
    if (!this.#claimNick(session, frame.nick, frame.id)) return;
    this.#welcome(session, frame, now);
  }

  #welcome(session: Session<P>, frame: ClientFrameOf<"hello">, now: number): void {
    session.statusSince = now;
    const s = this.settings;
    this.sink.send(
      session,
      withId({
        type: "welcome",
        nick: frame.nick,
        session: session.id,
        server: { name: s.server_name, version: this.version },
        heartbeat: { interval_ms: s.heartbeat_interval, timeout_ms: s.heartbeat_interval * s.heartbeat_max_missed },
        limits: { max_frame: s.max_frame, max_text: s.max_text, rate_per_s: s.rate_per_s, burst: s.burst },
      }, frame.id),
    );
    if (s.default_room) this.#join(session, s.default_room.replace(/^#/, ""), undefined, undefined);
  }

  /** Validates and takes `nick` for `session`, answering the error itself when it cannot. */
  #claimNick(session: Session<P>, nick: string, id: string | undefined): boolean {
    const problem = nickProblem(nick);
    if (problem) {
      this.#error(session, "nick_invalid", problem, id);
      return false;
    }
    const key = nickKey(nick);
    const holder = this.#byNick.get(key);
    if (holder && holder !== session) {
      this.#error(session, "nick_taken", `${nick} is already in use`, id);
      return false;
    }
    if (session.nickKey !== null) this.#byNick.delete(session.nickKey);
    session.nick = nick;
    session.nickKey = key;
    this.#byNick.set(key, session);
    return true;
  }

  #nick(session: Session<P>, frame: ClientFrameOf<"nick">): void {
    const old = session.nick!;
    const oldKey = session.nickKey!;
    if (this.cluster) {
      return this.#claimClusterNick(session, frame.nick, frame.id, () => {
        this.#renamed(session, old, frame);
        this.cluster?.releaseNick(oldKey, session.id);
        this.#relayToRooms([...session.rooms].map((r) => r.name), session.nickKey!, this.#member(session), {
          type: "nick",
          old,
          new: frame.nick,
        }, oldKey);
      });
    }
    if (!this.#claimNick(session, frame.nick, frame.id)) return;
    this.#renamed(session, old, frame);
  }

  #renamed(session: Session<P>, old: string, frame: ClientFrameOf<"nick">): void {
    const event: ServerFrame = { type: "nick", old, new: frame.nick };
    this.sink.broadcast(this.#neighbours(session), event, session);
    this.sink.send(session, withId(event, frame.id));
  }

  /**
   * Cluster: checks `nick` here first (invalid, or held by a session of this
   * node), then claims it in the shared store, then takes it and calls `then`.
   */
  #claimClusterNick(session: Session<P>, nick: string, id: string | undefined, then: () => void): void {
    const problem = nickProblem(nick);
    if (problem) return this.#error(session, "nick_invalid", problem, id);
    const key = nickKey(nick);
    const holder = this.#byNick.get(key);
    if (holder && holder !== session) return this.#error(session, "nick_taken", `${nick} is already in use`, id);
    if (holder === session) {
      // Same key (a change of case): nothing to claim.
      if (this.#claimNick(session, nick, id)) then();
      return;
    }
    this.cluster!.claimNick(key, nick, session.id).then((claimed) => {
      if (session.departed) {
        if (claimed) this.cluster?.releaseNick(key, session.id);
        return;
      }
      if (!claimed || this.#byNick.has(key)) {
        if (claimed && this.#byNick.get(key) !== session) this.cluster?.releaseNick(key, session.id);
        return this.#error(session, "nick_taken", `${nick} is already in use`, id);
      }
      if (this.#claimNick(session, nick, id)) then();
    }, (error) => this.#storeError(session, error, id));
  }

  /** A session as the cluster's member lists show it. */
  #member(session: Session<P>): ClusterMember {
    return {
      nick: session.nick!,
      status: session.status,
      since: session.statusSince,
      ...(session.note !== undefined ? { note: session.note } : {}),
    };
  }

  /** Cluster: tells other nodes' members of `rooms` an event about one user, once per user however many rooms they share. */
  #relayToRooms(rooms: string[], key: string, member: ClusterMember | undefined, frame: ServerFrame, oldKey?: string): void {
    const dedupe = `${this.#bootId}.${(++this.#nextEvent).toString(36)}`;
    for (const room of rooms) this.cluster!.memberEvent(room, key, member ?? null, frame, { dedupe, rooms, oldKey, countDelta: 0 });
  }

  /**
   * Cluster: a room message that came through the shared store. Delivered
   * only when it is the room's next seq (or with `force`, after a gap that
   * the store no longer holds); the sender's copy carries its frame id.
   */
  deliver(msg: MsgFrame, origin: string | undefined, force = false): "delivered" | "old" | "gap" | "no_room" {
    const room = this.#rooms.get(msg.room);
    if (!room) return "no_room";
    if (msg.seq <= room.seq) return "old";
    if (msg.seq !== room.seq + 1 && !force) return "gap";
    room.record(msg);
    const space = origin === undefined ? -1 : origin.indexOf(" ");
    const sender = space > 0 ? this.#byNick.get(nickKey(msg.from)) : undefined;
    if (sender && sender.id === origin!.slice(0, space) && room.members.has(sender)) {
      this.sink.broadcast(room.members, msg, sender);
      this.sink.send(sender, withId(msg, origin!.slice(space + 1)));
    } else {
      this.sink.broadcast(room.members, msg);
    }
    return "delivered";
  }

  /** Cluster: the latest seq this node has delivered in `room`, or undefined if it does not follow it. */
  roomSeq(name: string): number | undefined {
    return this.#rooms.get(name)?.seq;
  }

  /** Cluster: the registered sessions here, each as the cluster's member lists show it, with its rooms. */
  localUsers(): { session: Session<P>; member: ClusterMember; rooms: string[] }[] {
    return [...this.#byNick.values()].map((session) => ({
      session,
      member: this.#member(session),
      rooms: [...session.rooms].map((room) => room.name),
    }));
  }

  /** Names of the rooms this node follows (rooms with local members). */
  roomNames(): string[] {
    return [...this.#rooms.keys()];
  }

  /** Cluster: an event from another node, for this node's members of `rooms` (each told once). */
  relayEvent(rooms: string[], frame: ServerFrame): void {
    const to = new Set<Session<P>>();
    for (const name of rooms) for (const member of this.#rooms.get(name)?.members ?? []) to.add(member);
    if (to.size > 0) this.sink.broadcast(to, frame);
  }

  /** Cluster: a DM from another node for the local holder of `key`; false if there is none. */
  deliverDm(key: string, frame: ServerFrame): boolean {
    const target = this.#byNick.get(key);
    if (!target) return false;
    this.sink.send(target, frame);
    return true;
  }


  #join(session: Session<P>, name: string, since: number | undefined, id: string | undefined): void {
    if (this.cluster && !this.#rooms.has(name)) {
      // Follow the room (subscribe, then read its seq) before anyone here can be in it.
      return void this.cluster.openRoom(name).then((stored) => {
        if (session.departed) return;
        if (!this.#rooms.has(name)) {
          if (!this.#makeRoomFor()) {
            this.cluster?.closeRoom(name);
            return this.#error(session, "too_many_rooms", "the server has no room for another room", id);
          }
          this.#rooms.set(name, new Room<P>(name, ringCapacity(this.settings, this.store), stored.epoch, stored.seq));
        }
        this.#join(session, name, since, id);
      }, (error) => this.#storeError(session, error, id));
    }
    let room = this.#rooms.get(name);
    if (!room) {
      if (!this.#makeRoomFor()) {
        return this.#error(session, "too_many_rooms", "the server has no room for another room", id);
      }
      room = new Room<P>(name, ringCapacity(this.settings, this.store), `${this.#bootId}.${(++this.#nextRoom).toString(36)}`);
      this.#rooms.set(name, room);
    }
    room.history.capacity = ringCapacity(this.settings, this.store);
    if (this.cluster) return this.#clusterJoin(session, room, since, id);
    // A `since` past the room's seq was seen in an earlier incarnation (before a restart): all kept history is new to it.
    let history;
    try {
      history = snapshotHistory(room, since, this.settings, this.store);
    } catch (error) {
      return this.#storeError(session, error, id);
    }
    const alreadyMember = room.members.has(session);
    if (!alreadyMember) {
      room.members.add(session);
      session.rooms.add(room);
      this.#emptyRooms.delete(name);
    }
    whenReady(history, (history) => {
      const members = [...room.members].map((m) => m.nick!);
      this.sink.send(session, withId({ type: "room", room: name, seq: room.seq, epoch: room.epoch, members, history }, id));
      // A repeated join only refreshes the snapshot (e.g. to catch up with since); nobody else hears of it.
      if (!alreadyMember) this.sink.broadcast(room.members, { type: "join", room: name, nick: session.nick! });
    }, (error) => this.#storeError(session, error, id));
  }

  /**
   * Cluster: the history and the members on every node come from the store,
   * so the joiner becomes a member only once they are here; messages
   * delivered meanwhile are added from the ring, so the snapshot ends at the
   * room's seq and nothing is missed or sent twice.
   */
  #clusterJoin(session: Session<P>, room: Room<P>, since: number | undefined, id: string | undefined): void {
    let history;
    try {
      history = snapshotHistory(room, since, this.settings, this.store);
    } catch (error) {
      return this.#storeError(session, error, id);
    }
    const seqAtRequest = room.seq;
    const alreadyMember = room.members.has(session);
    const joinEvent: ServerFrame = { type: "join", room: room.name, nick: session.nick! };
    // Recorded before the snapshot goes out, so whoever asks `who` after it sees the joiner on any node.
    const recorded = alreadyMember ? undefined : this.cluster!.memberEvent(room.name, session.nickKey!, this.#member(session), joinEvent, {
      countDelta: 1,
    });
    const everywhere = this.cluster!.members(room.name).catch(() => [] as ClusterMember[]);
    Promise.all([history, everywhere, recorded]).then(([history, all]) => {
      if (session.departed) return;
      // Everyone here left meanwhile, so the room was dropped: start again.
      if (this.#rooms.get(room.name) !== room) return this.#join(session, room.name, since, id);
      const kept = history.filter((m) => m.seq <= room.seq);
      const full = [...kept, ...room.history.after(Math.max(kept.at(-1)?.seq ?? 0, seqAtRequest))];
      if (!alreadyMember && !room.members.has(session)) {
        room.members.add(session);
        session.rooms.add(room);
      }
      const members = [...new Set([...[...room.members].map((m) => m.nick!), ...all.map((m) => m.nick)])];
      this.sink.send(session, withId({ type: "room", room: room.name, seq: room.seq, epoch: room.epoch, members, history: full }, id));
      if (!alreadyMember) this.sink.broadcast(room.members, joinEvent);
    }, (error) => this.#storeError(session, error, id));
  }

  /** Ensures a new room fits under max_rooms, forgetting the oldest empty room if needed. */
  #makeRoomFor(): boolean {
    if (this.#rooms.size < this.settings.max_rooms) return true;
    const oldest = this.#emptyRooms.keys().next();
    if (oldest.done) return false;
    this.#emptyRooms.delete(oldest.value);
    this.#rooms.delete(oldest.value);
    void this.store.forget(oldest.value);
    return true;
  }

  #leave(session: Session<P>, frame: ClientFrameOf<"leave">): void {
    const room = this.#rooms.get(frame.room);
    if (!room || !room.members.has(session)) {
      return this.#error(session, "not_in_room", `you are not in ${frame.room}`, frame.id);
    }
    this.#removeMember(room, session);
    session.rooms.delete(room);
    this.sink.send(session, withId({ type: "left", room: room.name }, frame.id));
    this.sink.broadcast(room.members, { type: "leave", room: room.name, nick: session.nick!, reason: "left" });
    this.cluster?.memberEvent(room.name, session.nickKey!, null, {
      type: "leave",
      room: room.name,
      nick: session.nick!,
      reason: "left",
    }, { countDelta: -1 });
  }

  /** Takes `session` out of `room`; an emptied room is kept for its history, or dropped if it has none. */
  #removeMember(room: Room<P>, session: Session<P>): void {
    room.members.delete(session);
    if (room.members.size > 0) return;
    if (this.cluster) {
      // Nobody here follows it any more; its seq would go stale. It is read again from the store on the next join.
      this.#rooms.delete(room.name);
      return this.cluster.closeRoom(room.name);
    }
    if (room.seq === 0) this.#rooms.delete(room.name);
    else this.#emptyRooms.set(room.name, room);
  }

  #msg(session: Session<P>, frame: ClientFrameOf<"msg">, now: number): void {
    const room = this.#rooms.get(frame.room);
    if (!room || !room.members.has(session)) {
      return this.#error(session, "not_in_room", `join ${frame.room} before sending to it`, frame.id);
    }
    if (!this.#textFits(session, frame.text, frame.id)) return;
    let stored;
    try {
      const origin = frame.id === undefined ? undefined : `${session.id} ${frame.id}`;
      stored = this.store.append(room, session.nick!, frame.text, now, origin);
    } catch (error) {
      return this.#storeError(session, error, frame.id);
    }
    whenReady(stored, (msg) => {
      // Cluster: every node delivers in the store's order; this copy goes out now only if it is the next one.
      if (this.cluster) return this.cluster.appended(msg, frame.id === undefined ? undefined : `${session.id} ${frame.id}`);
      room.record(msg);
      if (frame.id === undefined) {
        this.sink.broadcast(room.members, msg);
      } else {
        this.sink.broadcast(room.members, msg, session);
        this.sink.send(session, withId(msg, frame.id));
      }
    }, (error) => this.#storeError(session, error, frame.id));
  }

  /** The store could not answer: the frame gets `unavailable`, never an ack. */
  #storeError(session: Session<P>, error: unknown, id: string | undefined): void {
    const retryAfterMs = error instanceof StoreUnavailable ? error.retryAfterMs : 1000;
    const message = error instanceof StoreUnavailable ? error.message : "the server cannot reach its store right now";
    this.sink.send(session, errorFrame("unavailable", message, { id, retry_after_ms: retryAfterMs }));
  }

  #dm(session: Session<P>, frame: ClientFrameOf<"dm">, now: number): void {
    const target = this.#byNick.get(nickKey(frame.to));
    if (!target && this.cluster) {
      if (!this.#textFits(session, frame.text, frame.id)) return;
      const dm: ServerFrame = { type: "dm", from: session.nick!, to: frame.to, text: frame.text, ts: now };
      return void this.cluster.sendDm(nickKey(frame.to), dm).then((sent) => {
        if (!sent) return this.#error(session, "no_such_user", `${frame.to} is not connected`, frame.id);
        this.sink.send(session, withId(dm, frame.id));
      }, (error) => this.#storeError(session, error, frame.id));
    }
    if (!target) return this.#error(session, "no_such_user", `${frame.to} is not connected`, frame.id);
    if (!this.#textFits(session, frame.text, frame.id)) return;
    const dm: ServerFrame = { type: "dm", from: session.nick!, to: target.nick!, text: frame.text, ts: now };
    if (target !== session) this.sink.send(target, dm);
    this.sink.send(session, withId(dm, frame.id));
  }

  /** Checks max_text in code points (a UTF-16 length within the bound needs no count). */
  #textFits(session: Session<P>, text: string, id: string | undefined): boolean {
    const max = this.settings.max_text;
    if (text.length <= max) return true;
    let count = 0;
    for (const _ of text) if (++count > max) break;
    if (count <= max) return true;
    this.#error(session, "text_too_long", `text has more than ${max} characters`, id);
    return false;
  }

  #who(session: Session<P>, frame: ClientFrameOf<"who">): void {
    if (this.cluster) {
      return void this.cluster.members(frame.room).then((users) => {
        if (users.length === 0) return this.#error(session, "no_such_room", `there is no room ${frame.room}`, frame.id);
        this.sink.send(session, withId({ type: "who", room: frame.room, users }, frame.id));
      }, (error) => this.#storeError(session, error, frame.id));
    }
    const room = this.#rooms.get(frame.room);
    if (!room) return this.#error(session, "no_such_room", `there is no room ${frame.room}`, frame.id);
    const users = [...room.members].map((m) => ({
      nick: m.nick!,
      status: m.status,
      since: m.statusSince,
      ...(m.note !== undefined ? { note: m.note } : {}),
    }));
    this.sink.send(session, withId({ type: "who", room: room.name, users }, frame.id));
  }

  #listRooms(session: Session<P>, id: string | undefined): void {
    if (this.cluster) {
      return void this.cluster.rooms().then(
        (rooms) => this.sink.send(session, withId({ type: "rooms", rooms }, id)),
        (error) => this.#storeError(session, error, id),
      );
    }
    const rooms = [...this.#rooms.values()].map((r) => ({ name: r.name, members: r.members.size, seq: r.seq }));
    this.sink.send(session, withId({ type: "rooms", rooms }, id));
  }

  #status(session: Session<P>, frame: ClientFrameOf<"status">, now: number): void {
    session.status = frame.status;
    session.note = frame.note;
    session.statusSince = now;
    const event: ServerFrame = {
      type: "presence",
      nick: session.nick!,
      status: frame.status,
      ...(frame.note !== undefined ? { note: frame.note } : {}),
    };
    this.sink.broadcast(this.#neighbours(session), event, session);
    this.sink.send(session, withId(event, frame.id));
    if (this.cluster) this.#relayToRooms([...session.rooms].map((r) => r.name), session.nickKey!, this.#member(session), event);
  }

  /** Everyone who shares at least one room with `session`, itself included. */
  #neighbours(session: Session<P>): Set<Session<P>> {
    const out = new Set<Session<P>>();
    for (const room of session.rooms) for (const member of room.members) out.add(member);
    return out;
  }

  #error(session: Session<P>, code: ErrorCode, message: string, id: string | undefined): void {
    this.sink.send(session, errorFrame(code, message, { id }));
  }
}
