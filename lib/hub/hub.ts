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
import { HistoryBudget } from "./history_budget.ts";
import { answerHistory, type HistorySource, snapshotHistory } from "./history_paging.ts";
import { addStrike, takeToken } from "./rate_limiter.ts";
import { Room } from "./room.ts";
import { Session } from "./session.ts";

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
  | "snapshot_bytes"
  | "history_memory"
  | "max_pending"
>;

/** Frame types that spend a rate-limit token. */
const RATE_LIMITED = new Set<ClientFrame["type"]>(["msg", "dm", "join", "status", "history"]);
/** Frame types accepted before `hello`. */
const BEFORE_HELLO = new Set<ClientFrame["type"]>(["hello", "ping", "pong", "quit"]);

/** Counts a server exposes about its hub. */
export interface HubCounts {
  sessions: number;
  registered: number;
  rooms: number;
  /** Bytes of history held in memory, all rooms (bounded by history_memory). */
  historyBytes: number;
  /** Messages evicted from memory to stay within history_memory, since start. */
  historyEvicted: number;
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
  readonly #historyBudget = new HistoryBudget(() => this.settings.history_memory);
  /** Answers history pages memory no longer holds (the store, with a data directory); null: memory is all. */
  historySource: HistorySource | null = null;

  constructor(
    readonly settings: HubSettings,
    readonly version: string,
    readonly sink: HubSink<P>,
  ) {}

  /** Sessions, registered users and rooms right now. */
  counts(): HubCounts {
    return {
      sessions: this.#sessions.size,
      registered: this.#byNick.size,
      rooms: this.#rooms.size,
      historyBytes: this.#historyBudget.bytes,
      historyEvicted: this.#historyBudget.evicted,
    };
  }

  /** The registered session holding `nick` (matched as nicks are), if any: read-only, for lookups such as IRC WHOIS. */
  sessionByNick(nick: string): Session<P> | undefined {
    return this.#byNick.get(nickKey(nick));
  }

  /** Whether room `name` exists now (with members, or kept for its history). */
  hasRoom(name: string): boolean {
    return this.#rooms.has(name);
  }

  /**
   * For a member of `room`: the newest message of its history sent at or
   * before `ts`, as its seq (see RoomHistory.lastSeqAtOrBefore) and its send
   * time (undefined when it is not held); null for anyone else. Read-only, so
   * that IRC CHATHISTORY can turn a `timestamp=` reference into the seq a
   * `history` frame takes (the frame pages by seq only, and finding a time by
   * paging would cost many frames), and list active channels for TARGETS.
   */
  historyAt(session: Session<P>, room: string, ts: number): { seq: number; ts: number | undefined } | null {
    const found = this.#rooms.get(room);
    if (!found || !found.members.has(session)) return null;
    const seq = found.history.lastSeqAtOrBefore(ts);
    return { seq, ts: found.history.tsOf(seq) };
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
    for (const room of session.rooms) {
      this.#removeMember(room, session);
      for (const member of room.members) neighbours.add(member);
      this.sink.broadcast(room.members, { type: "leave", room: room.name, nick, reason });
    }
    session.rooms.clear();
    this.#byNick.delete(session.nickKey!);
    this.sink.broadcast(neighbours, { type: "presence", nick, status: "offline", reason });
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
      case "history":
        return this.#history(session, frame);
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
    for (const room of this.#rooms.values()) room.history.clear();
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
    if (!this.#claimNick(session, frame.nick, frame.id)) return;
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
    if (!this.#claimNick(session, frame.nick, frame.id)) return;
    const event: ServerFrame = { type: "nick", old, new: frame.nick };
    this.sink.broadcast(this.#neighbours(session), event, session);
    this.sink.send(session, withId(event, frame.id));
  }

  #join(session: Session<P>, name: string, since: number | undefined, id: string | undefined): void {
    let room = this.#rooms.get(name);
    if (!room) {
      if (!this.#makeRoomFor()) {
        return this.#error(session, "too_many_rooms", "the server has no room for another room", id);
      }
      room = new Room<P>(name, this.settings.history, `${this.#bootId}.${(++this.#nextRoom).toString(36)}`);
      room.history.useBudget(this.#historyBudget);
      this.#rooms.set(name, room);
    }
    room.history.capacity = this.settings.history;
    // A `since` past the room's seq was seen in an earlier incarnation (before a restart): all kept history is new to it.
    const { history, more } = snapshotHistory(
      room.history,
      since === undefined ? undefined : since > room.seq ? 0 : since,
      this.settings,
      this.historySource !== null,
    );
    const alreadyMember = room.members.has(session);
    if (!alreadyMember) {
      room.members.add(session);
      session.rooms.add(room);
      this.#emptyRooms.delete(name);
    }
    const members = [...room.members].map((m) => m.nick!);
    this.sink.send(
      session,
      withId({ type: "room", room: name, seq: room.seq, epoch: room.epoch, members, history, ...(more ? { more } : {}) }, id),
    );
    // A repeated join only refreshes the snapshot (e.g. to catch up with since); nobody else hears of it.
    if (!alreadyMember) this.sink.broadcast(room.members, { type: "join", room: name, nick: session.nick! });
  }

  /** Ensures a new room fits under max_rooms, forgetting the oldest empty room if needed. */
  #makeRoomFor(): boolean {
    if (this.#rooms.size < this.settings.max_rooms) return true;
    const oldest = this.#emptyRooms.keys().next();
    if (oldest.done) return false;
    this.#emptyRooms.delete(oldest.value);
    this.#rooms.get(oldest.value)?.history.clear();
    this.#rooms.delete(oldest.value);
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
  }

  /** Takes `session` out of `room`; an emptied room is kept for its history, or dropped if it has none. */
  #removeMember(room: Room<P>, session: Session<P>): void {
    room.members.delete(session);
    if (room.members.size > 0) return;
    if (room.seq === 0) this.#rooms.delete(room.name);
    else this.#emptyRooms.set(room.name, room);
  }

  /** A page of a room's history, for its members only (a room that does not exist has none: `not_in_room`). */
  #history(session: Session<P>, frame: ClientFrameOf<"history">): void {
    const room = this.#rooms.get(frame.room);
    if (!room || !room.members.has(session)) {
      return this.#error(session, "not_in_room", `join ${frame.room} to read its history`, frame.id);
    }
    answerHistory(room, frame, this.settings, this.historySource, (answer) => {
      if (!session.departed) this.sink.send(session, withId(answer, frame.id));
    });
  }

  #msg(session: Session<P>, frame: ClientFrameOf<"msg">, now: number): void {
    const room = this.#rooms.get(frame.room);
    if (!room || !room.members.has(session)) {
      return this.#error(session, "not_in_room", `join ${frame.room} before sending to it`, frame.id);
    }
    if (!this.#textFits(session, frame.text, frame.id)) return;
    const msg = room.append(session.nick!, frame.text, now);
    if (frame.id === undefined) {
      this.sink.broadcast(room.members, msg);
    } else {
      this.sink.broadcast(room.members, msg, session);
      this.sink.send(session, withId(msg, frame.id));
    }
  }

  #dm(session: Session<P>, frame: ClientFrameOf<"dm">, now: number): void {
    const target = this.#byNick.get(nickKey(frame.to));
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
