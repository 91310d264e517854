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
import type { Awaitable } from "../store/account_store.ts";
import { AccountDesk } from "./accounts.ts";
import { type AuditEvent, defaultHubServices, type HubCore, type HubServices } from "./hub_services.ts";
import { ModerationDesk } from "./moderation.ts";
import { MessageDesk, sendStoreError } from "./messages.ts";
import { CrowdSummaries, isCrowded } from "./crowd.ts";
import { SPENDS_TOKEN, takeTokens } from "./frame_cost.ts";
import { HistoryBudget } from "./history_budget.ts";
import { answerHistory, type HistorySource, snapshotHistory } from "./history_paging.ts";
import { addStrike } from "./rate_limiter.ts";
import { Room } from "./room.ts";
import { storedHistory } from "./stored_history.ts";
import { ServerOperators } from "./room_modes.ts";
import { SessionWaits } from "./session_waits.ts";
import { type StoredRoom, whenReady } from "../store/types.ts";
import { Session } from "./session.ts";
import { IntrusiveList } from "./session_list.ts";
import { snapshotMembers } from "./snapshot_members.ts";
import type { ClusterMember, HubCluster, RemoteAction, RoomStateChange } from "./hub_cluster.ts";
import type { MsgFrame } from "../protocol/server_frames.ts";

/** Where the hub's output goes. Frames passed in must not be mutated afterwards. */
export interface HubSink<P> {
  /** Queues `frame` for one session. */
  send(to: Session<P>, frame: ServerFrame): void;
  /** Queues the same `frame` for every session in `to` except `except`. */
  broadcast(to: Iterable<Session<P>>, frame: ServerFrame, except?: Session<P>): void;
  /** Flushes what is queued for `session`, then closes its connection. */
  close(session: Session<P>, reason: ByeReason): void;
  /** Records a moderation or account action (logged and counted by the server). */
  audit?(event: AuditEvent, actor?: Session<P>): void;
  /**
   * `subject` logged in or out after hello (its `account` is the new one);
   * `to` are those who share a room with it (itself included). Dialects that
   * can tell it (IRC account-notify) do; the JSON protocol has no frame for it.
   */
  accountChanged?(subject: Session<P>, to: Iterable<Session<P>>): void;
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
  | "registration"
  | "password_min_length"
  | "operators"
  | "max_rooms_per_user"
  | "snapshot_members"
  | "crowd_size"
  | "crowd_interval"
  | "ip_rate_per_s"
  | "ip_burst"
  | "snapshot_bytes"
  | "history_memory"
  | "max_pending"
>;

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
export class Hub<P = unknown> implements HubCore<P> {
  readonly #sessions = new IntrusiveList<Session<P>>(); // Threaded through the sessions (issue 15).
  readonly #byNick = new Map<string, Session<P>>();
  readonly #rooms = new Map<string, Room<P>>();
  /** Rooms with no members but with history, oldest-emptied first: forgotten first when rooms run out. */
  readonly #emptyRooms = new Map<string, Room<P>>();
  /** Arrivals and departures in crowded rooms, told in one summary per interval. */
  readonly #crowd = new CrowdSummaries<Room<P>>();
  #nextSession = 0;
  #nextRoom = 0;
  readonly #bootId = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0");
  readonly #accounts: AccountDesk<P> = new AccountDesk<P>(this);
  readonly #moderation: ModerationDesk<P> = new ModerationDesk<P>(this);
  readonly #messages: MessageDesk<P> = new MessageDesk<P>(this);
  readonly #waits: SessionWaits<P> = new SessionWaits<P>(
    () => this.services.now(),
    (session, frame, now) => this.handle(session, frame, now),
    (session, frame) =>
      this.error(session, "rate_limited", "too many frames while a password is checked; retry shortly", frame.id, {
        retry_after_ms: 100,
      }),
  );
  readonly #serverOperators = new ServerOperators();
  readonly #historyBudget = new HistoryBudget(() => this.settings.history_memory);
  /** Set when this node is one of several sharing a store (see `lib/cluster/`). */
  cluster: HubCluster | undefined;
  #nextEvent = 0;
  /**
   * Answers history pages memory no longer holds: the store, when it is
   * durable (memory is then a cache within history_memory); null: memory is all.
   */
  historySource: HistorySource | null;

  constructor(
    readonly settings: HubSettings,
    readonly version: string,
    readonly sink: HubSink<P>,
    readonly services: HubServices = defaultHubServices(),
  ) {
    this.historySource = services.roomLog.durable ? storedHistory(services.roomLog) : null;
  }

  /** Brings back rooms the store kept from an earlier run (least recently active first), as empty rooms. */
  restoreRooms(rooms: StoredRoom[]): void {
    for (const { name, seq, epoch } of rooms) {
      const room = new Room<P>(name, this.settings.history, epoch, seq);
      room.history.useBudget(this.#historyBudget);
      // Its messages are in the store: pages reaching below what memory holds go to the history source.
      room.history.startAt(seq);
      this.#rooms.set(name, room);
      this.#emptyRooms.set(name, room);
      // Its topic, modes, operators and bans too: a restored room must not come back unbanned and unlocked.
      this.#moderation.roomCreated(room);
    }
  }

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

  /**
   * Logs `session` in to account `name` with its password, before or after
   * `hello`, whatever its nick: the same check and guessing limit as `hello`
   * (AccountDesk.login). IRC needs it because SASL, NickServ IDENTIFY and
   * OPER name an account apart from the nick; a login made before `hello`
   * is kept when the hello's nick is no account. `done` runs on success;
   * failures are answered as `error` frames with `id`.
   */
  login(session: Session<P>, name: string, password: string, id: string, now: number, done: (account: string) => void): void {
    if (session.departed) return;
    if (session.waits > 0) return this.error(session, "rate_limited", "a password is being checked already", id, { retry_after_ms: 100 });
    this.#accounts.login(session, name, password, id, now, (account) => {
      session.account = account;
      done(account.name);
      this.accountChanged(session);
    });
  }

  /** A new connection arrives; it must `hello` before anything else. */
  attach(peer: P, now: number, address = ""): Session<P> {
    const session = new Session(this.#bootId, ++this.#nextSession, peer, this.settings.burst, now);
    session.address = address;
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
    const neighbours = this.#neighbours(session);
    const roomNames = [...session.rooms].map((room) => room.name);
    for (const room of session.rooms) {
      this.#removeMember(room, session);
      this.#announce(room, { type: "leave", room: room.name, nick, reason }, session, "left");
      this.cluster?.memberEvent(room.name, session.nickKey!, null, { type: "leave", room: room.name, nick, reason }, { countDelta: -1 });
    }
    neighbours.delete(session);
    session.clearRooms();
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
    if (session.waits > 0) return this.#waits.hold(session, frame);
    if (session.nick === null && !BEFORE_HELLO.has(frame.type)) {
      return this.#error(session, "not_registered", "send hello first", frame.id);
    }
    if (SPENDS_TOKEN.has(frame.type) && !this.#spendToken(session, frame.id, now)) return;
    switch (frame.type) {
      case "hello":
        return this.#hello(session, frame, now);
      case "nick":
        return this.#nick(session, frame, now);
      case "join":
        return this.#joinWhenLoaded(session, frame.room, frame.since, frame.id, frame.key, now);
      case "leave":
        return this.#leave(session, frame);
      case "history":
        return this.#history(session, frame);
      case "msg":
        return this.#messages.msg(session, frame, now);
      case "dm":
        return this.#messages.dm(session, frame, now);
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
      case "register":
        return this.#accounts.register(session, frame, now);
      case "passwd":
        return this.#accounts.passwd(session, frame, now);
      case "drop":
        return this.#accounts.drop(session, frame, now);
      case "topic":
        return this.#moderation.topic(session, frame, now);
      case "mode":
        return this.#moderation.mode(session, frame);
      case "op":
      case "deop":
        return this.#moderation.role(session, frame);
      case "kick":
        return this.#moderation.kick(session, frame);
      case "ban":
        return this.#moderation.ban(session, frame, now);
      case "unban":
        return this.#moderation.unban(session, frame);
      case "bans":
        return this.#moderation.bans(session, frame);
      case "invite":
        return this.#moderation.invite(session, frame);
      case "kill":
        return this.#moderation.kill(session, frame);
    }
  }

  /**
   * Time passes: sends the crowd summaries that are due. The server calls
   * this from its periodic sweep; the hub owns no timers.
   */
  tick(now: number): void {
    for (const { room, frame } of this.#crowd.due(now, this.settings.crowd_interval)) {
      this.sink.broadcast(room.members, frame);
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
    const sessions = this.#sessions.toArray();
    for (const session of sessions) {
      this.sink.send(session, { type: "bye", reason: "shutdown" });
      session.departed = true;
      session.clearRooms();
      this.sink.close(session, "shutdown");
    }
    this.#sessions.clear();
    this.#byNick.clear();
    for (const room of this.#rooms.values()) room.history.clear();
    this.#rooms.clear();
    this.#emptyRooms.clear();
    this.#crowd.clear();
    return sessions.length;
  }

  /** Spends one token; on refusal answers `rate_limited` and ends a flooding session. */
  #spendToken(session: Session<P>, id: string | undefined, now: number): boolean {
    const retryAfterMs = takeTokens(session, this.settings, now);
    if (retryAfterMs === 0) return true;
    if (addStrike(session, this.settings.flood_strikes, now)) {
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
    this.#accounts.authenticate(session, frame.nick, frame.password, frame.id, now, (account, now) => {
      const welcome = () => {
        // A guest nick keeps a login made before hello (IRC SASL, see login()).
        session.account = account ?? session.account;
        this.#welcome(session, frame, now);
      };
      if (this.cluster) return this.#claimClusterNick(session, frame.nick, frame.id, welcome);
      if (!this.#claimNick(session, frame.nick, frame.id)) return;
      welcome();
    });
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
        ...(session.account !== null ? { account: session.account.name } : {}),
      }, frame.id),
    );
    if (s.default_room) this.#joinWhenLoaded(session, s.default_room.replace(/^#/, ""), undefined, undefined, undefined, now);
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

  #nick(session: Session<P>, frame: ClientFrameOf<"nick">, now: number): void {
    this.#accounts.authenticate(session, frame.nick, frame.password, frame.id, now, (account) => {
      const old = session.nick!;
      const oldKey = session.nickKey!;
      const renamed = () => {
        for (const room of session.rooms) room.index.rekey(session, old);
        // Renaming to a nick that is no account keeps the session's login.
        const changed = account !== null && account.key !== session.account?.key;
        if (account !== null) session.account = account;
        this.#renamed(session, frame, old);
        if (changed) this.accountChanged(session);
        if (!this.cluster || oldKey === session.nickKey) return;
        this.cluster.releaseNick(oldKey, session.id);
        const rooms = [...session.rooms].map((r) => r.name);
        this.#relayToRooms(rooms, session.nickKey!, this.#member(session), { type: "nick", old, new: frame.nick }, oldKey);
      };
      if (this.cluster) return this.#claimClusterNick(session, frame.nick, frame.id, renamed);
      if (!this.#claimNick(session, frame.nick, frame.id)) return;
      renamed();
    });
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
    const claim = this.cluster!.claimNick(key, nick, session.id).then((claimed) => {
      if (claimed && session.departed) this.cluster?.releaseNick(key, session.id);
      return claimed;
    });
    // Deferred, so frames sent right behind `hello` (a pipelining client) are handled once the nick is taken.
    this.defer(session, claim, this.services.now(), (claimed) => {
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
      ...(session.account !== null ? { account: session.account.name } : {}),
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
    if (msg.seq !== room.seq + 1) {
      if (!force) return "gap";
      // Memory holds consecutive seqs: start again after messages the store no longer keeps.
      room.history.clear();
    }
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

  /**
   * Cluster: an event from another node, for this node's members of `rooms`
   * (each told once). The crowd rule holds as on one node, judged by the
   * members here: a join or leave in a crowded room goes into its summary,
   * and presence and nick changes skip crowded rooms.
   */
  relayEvent(rooms: string[], frame: ServerFrame): void {
    const to = new Set<Session<P>>();
    // The operator who removed a user of another node got its copy (with id) from this node already.
    const actor = frame.type === "leave" && frame.by !== undefined ? this.#byNick.get(nickKey(frame.by)) : undefined;
    for (const name of rooms) {
      const room = this.#rooms.get(name);
      if (!room) continue;
      if (isCrowded(room.members.size, this.settings.crowd_size)) {
        if (frame.type === "join") this.#crowd.record(room, "joined");
        else if (frame.type === "leave" && frame.reason !== "kicked" && frame.reason !== "banned") this.#crowd.record(room, "left");
        else if (frame.type === "leave") this.sink.broadcast(room.members, frame);
        continue;
      }
      for (const member of room.members) to.add(member);
    }
    if (actor) to.delete(actor);
    if (to.size > 0) this.sink.broadcast(to, frame);
  }

  /** Cluster: another node changed a room's topic, modes, operators or bans (see ModerationDesk.roomStateChanged). */
  roomStateChanged(room: string, change: RoomStateChange): void {
    const live = this.#rooms.get(room);
    if (live) this.#moderation.roomStateChanged(live, change);
  }

  /** Cluster: an event from another node for the operators of `room` here (`ban`, `unban`). */
  relayToOperators(room: string, frame: ServerFrame, reply?: { nick: string; id?: string }): void {
    const live = this.#rooms.get(room);
    if (live) this.#moderation.relayToOperators(live, frame, reply);
  }

  /** Cluster: Redis is back; topic, modes, operators and bans of every followed room are read again. */
  reloadRoomStates(): void {
    for (const room of this.#rooms.values()) {
      whenReady(this.services.roomStates.load(room.name), (record) => this.#moderation.replaceKept(room, record), () => {});
    }
  }

  /** Cluster: another node's operator kicks, bans, kills or invites the local holder of `key`. */
  remoteAction(key: string, action: RemoteAction): void {
    const target = this.#byNick.get(key);
    if (target) this.#moderation.remoteAction(target, action);
  }

  /** Cluster: a DM from another node for the local holder of `key`; false if there is none. */
  deliverDm(key: string, frame: ServerFrame): boolean {
    const target = this.#byNick.get(key);
    if (!target) return false;
    this.sink.send(target, frame);
    return true;
  }

  #renamed(session: Session<P>, frame: ClientFrameOf<"nick">, old: string): void {
    const event: ServerFrame = { type: "nick", old, new: frame.nick };
    this.sink.broadcast(this.#neighbours(session), event, session);
    this.sink.send(session, withId(event, frame.id));
  }

  /** Joins once a new room's kept state is at hand (a store that answers later is waited for). */
  #joinWhenLoaded(
    session: Session<P>,
    name: string,
    since: number | undefined,
    id: string | undefined,
    key: string | undefined,
    now: number,
  ): void {
    const join = () => this.#join(session, name, since, id, key);
    if (!this.#moderation.preload(session, name, id, now, join)) join();
  }

  #join(
    session: Session<P>,
    name: string,
    since: number | undefined,
    id: string | undefined,
    key?: string,
    /** Cluster: members on other nodes, once recorded and read (see #clusterJoin). */
    elsewhere?: ClusterMember[],
  ): void {
    if (this.cluster && !elsewhere) return this.#clusterJoin(session, name, since, id, key);
    let room = this.#rooms.get(name);
    // A cluster join was checked by #clusterJoin (checking again would spend an invite twice).
    if (!elsewhere && this.#refuseJoin(session, room, key, id)) return;
    if (!room) {
      if (!this.#makeRoomFor()) {
        return this.#error(session, "too_many_rooms", "the server has no room for another room", id);
      }
      room = new Room<P>(name, this.settings.history, `${this.#bootId}.${(++this.#nextRoom).toString(36)}`);
      room.history.useBudget(this.#historyBudget);
      this.#rooms.set(name, room);
      this.#moderation.roomCreated(room);
    }
    room.history.capacity = this.settings.history;
    // A `since` past the room's seq was seen in an earlier incarnation (before a restart): all kept history is new to it.
    const { history, more } = snapshotHistory(
      room.history,
      since === undefined ? undefined : since > room.seq ? 0 : since,
      this.settings,
      this.historySource && { room: name, source: this.historySource },
    );
    const alreadyMember = !room.addMember(session);
    if (!alreadyMember) {
      // In a cluster the room is not new to its members on other nodes: only a joiner of an empty room creates it.
      const othersElsewhere = elsewhere?.some((m) => nickKey(m.nick) !== session.nickKey) ?? false;
      if (!othersElsewhere) this.#moderation.joining(room, session, name === this.settings.default_room.replace(/^#/, ""));
      session.addRoom(room);
      this.#emptyRooms.delete(name);
    }
    let members = snapshotMembers(room.members, this.#listedFirst(room, session), this.settings.snapshot_members)
      .map((m) => m.nick!);
    let member_count = room.members.size;
    if (elsewhere) {
      const here = new Set([...room.members].map((m) => m.nickKey));
      const others = elsewhere.filter((m) => !here.has(nickKey(m.nick))).map((m) => m.nick);
      member_count += others.length;
      members = [...members, ...others].slice(0, Math.max(members.length, this.settings.snapshot_members));
    }
    this.sink.send(
      session,
      withId({
        type: "room",
        room: name,
        seq: room.seq,
        epoch: room.epoch,
        members,
        member_count,
        history,
        ...(more ? { more } : {}),
        ...this.#moderation.snapshotFields(room),
      }, id),
    );
    // A repeated join only refreshes the snapshot (e.g. to catch up with since); nobody else hears of it.
    if (!alreadyMember) this.#announce(room, { type: "join", room: name, nick: session.nick! }, session, "joined");
  }

  /** Answers the error and returns true when `session` may not join `room` (or a new room, when undefined). */
  #refuseJoin(session: Session<P>, room: Room<P> | undefined, key: string | undefined, id: string | undefined): boolean {
    if (!room?.members.has(session) && session.roomCount >= this.settings.max_rooms_per_user) {
      const max = this.settings.max_rooms_per_user;
      this.#error(session, "too_many_rooms", `you are in ${max} rooms already; leave one first`, id);
      return true;
    }
    const refusal = room && this.#moderation.joinRefusal(room, session, key);
    if (refusal) this.#error(session, refusal.code, refusal.message, id);
    return refusal !== undefined && refusal !== null;
  }

  /**
   * Cluster: follows the room first (subscribe, then read its seq and epoch
   * from the store), records the joiner in the room's shared member list,
   * reads the members on every node, then joins as a single node does (the
   * snapshot is built then, from what this node has delivered so far, so
   * nothing is missed or sent twice). Older history is paged from the store.
   */
  #clusterJoin(session: Session<P>, name: string, since: number | undefined, id: string | undefined, key: string | undefined, recordedBefore = false): void {
    const cluster = this.cluster!;
    // The room's kept state is read after subscribing, so a change made meanwhile is in the read or on the channel.
    const opened = this.#rooms.has(name)
      ? undefined
      : cluster.openRoom(name).then(async (stored) => ({ stored, record: await this.services.roomStates.load(name) }));
    // A join started over (recordedBefore) was checked and recorded already: it is not checked again, and is taken off record if it fails.
    const unrecord = () => recordedBefore && cluster.memberEvent(name, session.nickKey!, null, { type: "leave", room: name, nick: session.nick!, reason: "left" }, { countDelta: -1 });
    Promise.resolve(opened).then((loaded) => {
      const stored = loaded?.stored;
      if (session.departed) {
        unrecord();
        return stored && !this.#rooms.has(name) && cluster.closeRoom(name);
      }
      if (stored && !this.#rooms.has(name)) {
        if (!recordedBefore && this.#refuseJoin(session, undefined, key, id)) return cluster.closeRoom(name);
        if (!this.#makeRoomFor()) {
          cluster.closeRoom(name);
          unrecord();
          return this.#error(session, "too_many_rooms", "the server has no room for another room", id);
        }
        const room = new Room<P>(name, this.settings.history, stored.epoch, stored.seq);
        room.history.useBudget(this.#historyBudget);
        room.history.startAt(stored.seq);
        this.#rooms.set(name, room);
        this.#moderation.roomCreated(room, loaded);
      }
      const room = this.#rooms.get(name)!;
      if (!recordedBefore && this.#refuseJoin(session, room, key, id)) return this.#dropIfUnfollowed(room);
      const member = room.members.has(session);
      const leaveFrame: ServerFrame = { type: "leave", room: name, nick: session.nick!, reason: "left" };
      // Recorded before the snapshot goes out, so whoever asks `who` after it sees the joiner on any node.
      const recorded = member || recordedBefore
        ? undefined
        : cluster.memberEvent(name, session.nickKey!, this.#member(session), { type: "join", room: name, nick: session.nick! }, {
          countDelta: 1,
        });
      return Promise.all([cluster.members(name), recorded]).then(([elsewhere]) => {
        if (session.departed) {
          if (recorded || recordedBefore) cluster.memberEvent(name, session.nickKey!, null, leaveFrame, { countDelta: -1 });
          return this.#dropIfUnfollowed(room);
        }
        // Everyone here left meanwhile, so the room was dropped: start again (the joiner is on record already: counted once).
        if (this.#rooms.get(name) !== room) return this.#clusterJoin(session, name, since, id, key, recorded !== undefined || recordedBefore);
        this.#join(session, name, since, id, key, elsewhere);
      });
    }).catch((error) => this.#storeError(session, error, id));
  }

  /** Cluster: a room with no member here is not followed (its seq would go stale); see #removeMember. */
  #dropIfUnfollowed(room: Room<P>): void {
    if (room.members.size > 0 || this.#rooms.get(room.name) !== room) return;
    room.history.clear();
    this.#rooms.delete(room.name);
    this.cluster?.closeRoom(room.name);
  }

  /** Ensures a new room fits under max_rooms, forgetting the oldest empty room if needed. */
  #makeRoomFor(): boolean {
    if (this.#rooms.size < this.settings.max_rooms) return true;
    const oldest = this.#emptyRooms.keys().next();
    if (oldest.done) return false;
    this.#emptyRooms.delete(oldest.value);
    this.#rooms.get(oldest.value)?.history.clear();
    this.#rooms.delete(oldest.value);
    void this.services.roomLog.forget(oldest.value);
    return true;
  }

  #leave(session: Session<P>, frame: ClientFrameOf<"leave">): void {
    const room = this.#rooms.get(frame.room);
    if (!room || !room.members.has(session)) {
      return this.#error(session, "not_in_room", `you are not in ${frame.room}`, frame.id);
    }
    this.#removeMember(room, session);
    session.removeRoom(room);
    this.sink.send(session, withId({ type: "left", room: room.name }, frame.id));
    this.#announce(room, { type: "leave", room: room.name, nick: session.nick!, reason: "left" }, session, "left");
    const event: ServerFrame = { type: "leave", room: room.name, nick: session.nick!, reason: "left" };
    this.cluster?.memberEvent(room.name, session.nickKey!, null, event, { countDelta: -1 });
  }

  /** Takes `session` out of `room`; an emptied room is kept for its history, or dropped if it has none. */
  #removeMember(room: Room<P>, session: Session<P>): void {
    room.removeMember(session);
    this.#moderation.memberLeft(room, session);
    if (room.members.size > 0) return;
    if (this.cluster) {
      // Nobody here follows it any more; its seq would go stale. It is read again from the store on the next join.
      room.history.clear();
      this.#rooms.delete(room.name);
      return this.cluster.closeRoom(room.name);
    }
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

  /** The store could not answer: the frame gets `unavailable`, never an ack. */
  #storeError(session: Session<P>, error: unknown, id: string | undefined): void {
    sendStoreError(this, session, error, id);
  }

  #who(session: Session<P>, frame: ClientFrameOf<"who">): void {
    if (this.cluster) return this.#clusterWho(session, frame);
    const room = this.#rooms.get(frame.room);
    if (!room) return this.#error(session, "no_such_room", `there is no room ${frame.room}`, frame.id);
    // One page in casefolded order from the room's sorted index: O(log n + limit), never a sort of the room.
    const page = room.index.page(frame.after, frame.limit ?? 1000);
    const users = page.members.map((m) => ({
      nick: m.nick!,
      status: m.status,
      since: m.statusSince,
      ...(m.note !== undefined ? { note: m.note } : {}),
      ...this.#moderation.whoFields(room, m),
    }));
    const answer: ServerFrame = { type: "who", room: room.name, users, member_count: room.members.size };
    if (page.more) answer.next = users.at(-1)!.nick;
    this.sink.send(session, withId(answer, frame.id));
  }

  /** Cluster: `who` from the room's shared member list, paged in casefolded order as on one node. */
  #clusterWho(session: Session<P>, frame: ClientFrameOf<"who">): void {
    this.cluster!.members(frame.room).then((all) => {
      if (all.length === 0) return this.#error(session, "no_such_room", `there is no room ${frame.room}`, frame.id);
      const sorted = all.map((m) => ({ key: nickKey(m.nick), m })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const after = frame.after === undefined ? undefined : nickKey(frame.after);
      const from = after === undefined ? sorted : sorted.filter((e) => e.key > after);
      const limit = frame.limit ?? 1000;
      const here = this.#rooms.get(frame.room);
      const users = from.slice(0, limit).map(({ m }) => (this.#moderation.remoteWhoOp(here, m) ? { ...m, op: true } : m));
      const answer: ServerFrame = { type: "who", room: frame.room, users, member_count: all.length };
      if (from.length > limit) answer.next = users.at(-1)!.nick;
      this.sink.send(session, withId(answer, frame.id));
    }, (error) => this.#storeError(session, error, frame.id));
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

  /**
   * Everyone who shares a room of at most `crowd_size` members with
   * `session`, itself included: who hears its presence and nick changes.
   * Crowded rooms are left out, or one user's `/away` would cost a frame per
   * member of the default room.
   */
  #neighbours(session: Session<P>): Set<Session<P>> {
    const out = new Set<Session<P>>();
    for (const room of session.rooms) {
      if (isCrowded(room.members.size, this.settings.crowd_size)) continue;
      for (const member of room.members) out.add(member);
    }
    return out;
  }

  /**
   * Tells a room about a join or leave of `subject`. While the room is small
   * every member hears it; in a crowded room only `subject` hears its own
   * join, and the rest hear it in the next `crowd` summary. Events that must
   * always be heard (about operators; kicks and bans, which pass `always`)
   * bypass the crowd rule.
   */
  #announce(
    room: Room<P>,
    event: ServerFrame,
    subject: Session<P>,
    kind: "joined" | "left",
    always = false,
  ): void {
    const size = room.members.size + (kind === "left" ? 1 : 0);
    if (always || this.#alwaysAnnounced(room, subject) || !isCrowded(size, this.settings.crowd_size)) {
      return this.sink.broadcast(room.members, event);
    }
    if (kind === "joined") this.sink.send(subject, event);
    this.#crowd.record(room, kind);
  }

  /** Whether `session`'s comings and goings in `room` are told one by one even when crowded (its operators). */
  #alwaysAnnounced(room: Room<P>, session: Session<P>): boolean {
    return this.#moderation.isOperator(room, session);
  }

  /** Who a snapshot of `room` lists before everyone else: the joiner, then the operators present. */
  #listedFirst(room: Room<P>, joiner: Session<P>): Session<P>[] {
    return [joiner, ...this.#moderation.knownOperatorsPresent(room)];
  }

  #error(session: Session<P>, code: ErrorCode, message: string, id: string | undefined): void {
    this.sink.send(session, errorFrame(code, message, { id }));
  }

  // HubCore: what the account and moderation handlers use.

  /** HubCore: an error frame for `session`. */
  error(
    session: Session<P>,
    code: ErrorCode,
    message: string,
    id: string | undefined,
    extra: { field?: string; retry_after_ms?: number } = {},
  ): void {
    this.sink.send(session, errorFrame(code, message, { id, ...extra }));
  }

  /** HubCore: continues at once with a ready value; else holds the session's frames until it settles. */
  defer<T>(
    session: Session<P>,
    value: Awaitable<T>,
    now: number,
    then: (value: T, now: number) => void,
    failed: (error: unknown, now: number) => void,
  ): void {
    this.#waits.defer(session, value, now, then, failed);
  }

  /** HubCore. */
  room(name: string): Room<P> | undefined {
    return this.#rooms.get(name);
  }

  /** HubCore. */
  allRooms(): Iterable<Room<P>> {
    return this.#rooms.values();
  }

  /** HubCore. */
  removeFromRoom(room: Room<P>, session: Session<P>, event?: ServerFrame): void {
    this.#removeMember(room, session);
    session.removeRoom(room);
    if (event && session.nickKey !== null) this.cluster?.memberEvent(room.name, session.nickKey, null, event, { countDelta: -1 });
  }

  /** HubCore: whether the session is logged in to an account named in the `operators` setting. */
  isServerOperator(session: Session<P>): boolean {
    return this.#serverOperators.includes(session.account, this.settings.operators);
  }

  /** HubCore: `frame` to everyone in `to` but the actor, and to the actor with `id`. */
  tell(to: Iterable<Session<P>>, frame: ServerFrame, actor: Session<P>, id: string | undefined): void {
    this.sink.broadcast(to, frame, actor);
    this.sink.send(actor, withId(frame, id));
  }

  /** HubCore: tells `session`'s neighbours that its login changed (after hello; a hello's JOINs carry it). */
  accountChanged(session: Session<P>): void {
    if (session.nick !== null) this.sink.accountChanged?.(session, this.#neighbours(session));
  }

  /** HubCore. */
  audit(event: AuditEvent, actor?: Session<P>): void {
    this.sink.audit?.(event, actor);
  }
}
