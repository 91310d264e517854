/**
 * A typed client for the JSON dialect, used by `tcpchat connect`, `tcpchat
 * send` and any program. It registers, matches answers to requests by `id`,
 * keeps the connection alive with pings, and reconnects by itself with
 * backoff: it re-registers, rejoins every room with `since` = the last seq it
 * saw, and so misses nothing the server still keeps. It talks to the server
 * through a {@linkcode FrameLink} (TCP by default, WebSocket in the browser),
 * so this logic is written once for both.
 *
 * @example
 * ```ts
 * const client = new ChatClient({ runtime: getRuntime(), host: "127.0.0.1", port: 7777, nick: "ada" });
 * client.on("msg", (m) => console.log(`[${m.room}] <${m.from}> ${m.text}`));
 * await client.connect();
 * await client.send("lobby", "hello");
 * ```
 *
 * @module
 */
import type { ClientFrame } from "../protocol/client_frames.ts";
import type { ErrorFrame, MsgFrame, ServerFrame, WhoEntry } from "../protocol/server_frames.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Dialer, FrameLink } from "./link.ts";
import { tcpDialer } from "./tcp_link.ts";
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF } from "./backoff.ts";
import { Emitter } from "./emitter.ts";

type FrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;
/** The server's `welcome`. */
export type WelcomeFrame = FrameOf<"welcome">;
/** A room snapshot. */
export type RoomFrame = FrameOf<"room">;
/** A page of a room's history. */
export type HistoryFrame = FrameOf<"history">;

/** Which page `history()` asks for (PROTOCOL section 10). */
export interface HistoryOptions {
  /** The newest messages with a smaller seq. */
  before?: number;
  /** The oldest messages with a greater seq. */
  after?: number;
  /** 1-100 (the server's default is 50). */
  limit?: number;
}

/** Where the client's connection stands. */
export type ConnectionState = "connecting" | "online" | "reconnecting" | "closed";

/** Events a {@linkcode ChatClient} emits. */
export interface ClientEvents {
  [event: string]: unknown;
  /** Registered (again); `resumed` is true after a reconnect. */
  welcome: { welcome: WelcomeFrame; resumed: boolean };
  /** A room message, the client's own included; never twice, always in seq order per room. */
  msg: MsgFrame;
  dm: FrameOf<"dm">;
  join: FrameOf<"join">;
  leave: FrameOf<"leave">;
  nick: FrameOf<"nick">;
  presence: FrameOf<"presence">;
  /** A crowded room's arrivals and departures since the last summary (instead of join/leave per member). */
  crowd: FrameOf<"crowd">;
  /** A room snapshot the client now stands on; the history it had not seen follows as `msg` events. */
  room: RoomFrame;
  left: FrameOf<"left">;
  /** An error frame that answers no request of this client. */
  error: ErrorFrame;
  /** The server said goodbye. */
  bye: FrameOf<"bye">;
  /** Connection state changes, with why and when the next attempt is. */
  state: { state: ConnectionState; reason?: string; attempt?: number; delayMs?: number };
  /** After a reconnect: how many messages of `room` were caught up, and how many were lost (past the server's history). */
  resumed: { room: string; caughtUp: number; lost: number };
  /** The nick had to change on reconnect because the old one was still held. */
  renamed: { old: string; new: string };
  /** The session's account changed (registered, password changed, dropped). */
  account: FrameOf<"account">;
  /** A room's topic was set (own changes included). */
  topic: FrameOf<"topic">;
  mode: FrameOf<"mode">;
  /** Someone was made or unmade an operator of a room. */
  role: FrameOf<"role">;
  /** A ban was set or lifted (operators only hear of these). */
  ban: FrameOf<"ban">;
  /** Someone invited this client to a room. */
  invite: FrameOf<"invite">;
}

/** What the client knows about a room besides its messages. */
export interface RoomInfo {
  topic: string;
  /** Account names of its account operators. */
  ops: string[];
  modes?: FrameOf<"mode">["modes"];
}

/** An `error` answer from the server, or a local failure (`code` `disconnected`, `timeout`). */
export class ChatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
  }
}

/** How to reach and talk to a server: `dial`, or `runtime`, `host` and `port` for TCP. */
export interface ChatClientOptions {
  /** Opens a link to the server (e.g. `wsDialer(url)` in a browser); when absent, TCP to host:port. */
  dial?: Dialer;
  runtime?: Runtime;
  host?: string;
  port?: number;
  nick: string;
  /** Rooms to join after registering (the server's default room comes on its own). */
  rooms?: string[];
  /** Reconnect after a lost connection (default true). The first connect never retries. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /** How long a request may wait for its answer (default 10 s). */
  requestTimeoutMs?: number;
  /** Sent in `hello`. */
  client?: string;
  /** Connect over TLS (with runtime, host and port): with `ca` (PEM text) trusted instead of the system roots, or `insecure` (no checks). */
  tls?: { ca?: string; insecure?: boolean; serverName?: string };
  /** Sent in `hello` (for a nick that is an account); kept in memory only, for reconnects. Never logged or shown. */
  password?: string;
  /** For tests. */
  random?: () => number;
}

interface Pending {
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A room the client is in: what it saw last, and whether it is catching up. */
interface JoinedRoom {
  lastSeq: number;
  resuming: boolean;
  /** The room incarnation the seqs belong to. */
  epoch?: string;
  /** The server forgot the room (a restart): catching up must start from the beginning. */
  refetch?: boolean;
  /** Set while the rest of a snapshot (`more`) is paged in with `history`; resolves when caught up. */
  catchUp?: Promise<void>;
  /** Live messages that arrive while paging; emitted after the last page, those it did not hold. */
  buffered?: MsgFrame[];
}

/** How a catch-up began: for the `resumed` event at its end. */
interface CatchUpStart {
  resumed: boolean;
  /** The last seq seen before the snapshot. */
  before: number;
  caughtUp: number;
  /** The first seq emitted, to tell how many were lost before it. */
  first?: number;
}

/** How long past the server's timeout to keep asking for our old nick after a reconnect. */
const NICK_RECLAIM_MARGIN_MS = 2000;

/** The JSON-dialect client. */
export class ChatClient extends Emitter<ClientEvents> {
  #nick: string;
  #state: ConnectionState = "closed";
  #conn: FrameLink | null = null;
  readonly #dial: Dialer;
  #welcome: WelcomeFrame | null = null;
  readonly #pending = new Map<string, Pending>();
  readonly #rooms = new Map<string, JoinedRoom>();
  readonly #roomInfo = new Map<string, RoomInfo>();
  #password: string | undefined;
  #nextId = 0;
  #userClosed = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: ChatClientOptions) {
    super();
    this.#nick = options.nick;
    const { dial, runtime, host, port, tls } = options;
    if (dial) this.#dial = dial;
    else if (runtime && host !== undefined && port !== undefined) this.#dial = tcpDialer(runtime, host, port, tls);
    else throw new TypeError("ChatClient needs dial, or runtime, host and port");
    this.#password = options.password;
  }

  /** Sets the password sent with the next `hello` (after a `nick_reserved` or `unauthorized` answer). */
  usePassword(password: string | undefined): void {
    this.#password = password;
  }

  /** The account this client is logged in to, if any. */
  get account(): string | undefined {
    return this.#account;
  }
  #account: string | undefined;

  /** Topic, account operators and modes of a joined room, as last heard. */
  roomInfo(room: string): RoomInfo | undefined {
    return this.#roomInfo.get(room);
  }

  /** The nick the server knows this client by. */
  get nick(): string {
    return this.#nick;
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The last `welcome` (server limits, heartbeat). */
  get welcome(): WelcomeFrame | null {
    return this.#welcome;
  }

  /** Rooms the client is in, with the last seq seen in each. */
  get rooms(): Map<string, number> {
    return new Map([...this.#rooms].map(([name, room]) => [name, room.lastSeq]));
  }

  /**
   * Connects and registers. Rejects (without retrying) if the server cannot be
   * reached or refuses the nick; once registered, lost connections are
   * re-established by themselves.
   */
  async connect(): Promise<WelcomeFrame> {
    this.#userClosed = false;
    this.#setState("connecting");
    try {
      const welcome = await this.#open(false);
      for (const room of this.options.rooms ?? []) await this.join(room);
      return welcome;
    } catch (error) {
      this.#shutdown();
      this.#setState("closed", (error as Error).message);
      throw error;
    }
  }

  /** Sends any frame with a fresh `id` and resolves with the answer carrying it (error answers reject). */
  request(frame: ClientFrame): Promise<ServerFrame> {
    const conn = this.#conn;
    if (!conn) return Promise.reject(new ChatError("disconnected", "not connected"));
    const id = `c${++this.#nextId}`;
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.requestTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ChatError("timeout", `no answer to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#write(conn, { ...frame, id });
    });
  }

  /**
   * Joins `room` (the client then follows it across reconnects); resolves with
   * the snapshot once every message it covers has been emitted, pages that
   * followed it (`more`) included.
   */
  async join(room: string, since?: number): Promise<RoomFrame> {
    const snapshot =
      (await this.request(since === undefined ? { type: "join", room } : { type: "join", room, since })) as RoomFrame;
    await this.#rooms.get(room)?.catchUp;
    return snapshot;
  }

  /** A page of `room`'s kept history (for scrollback); the messages are returned, not emitted. */
  async history(room: string, options: HistoryOptions = {}): Promise<HistoryFrame> {
    return (await this.request({ type: "history", room, ...options })) as HistoryFrame;
  }

  /** Leaves `room`. */
  async leave(room: string): Promise<void> {
    await this.request({ type: "leave", room });
  }

  /** Sends a message; resolves with the server's copy (the acknowledgement, with its seq). */
  async send(room: string, text: string): Promise<MsgFrame> {
    return (await this.request({ type: "msg", room, text })) as MsgFrame;
  }

  /** Sends a direct message; resolves with the server's copy. */
  async dm(to: string, text: string): Promise<FrameOf<"dm">> {
    return (await this.request({ type: "dm", to, text })) as FrameOf<"dm">;
  }

  /**
   * One page of `room`'s members and their status, in casefolded nick order:
   * the first, or the one after `after` (the previous page's `next`). The
   * answer's `member_count` is the room's size and `next` is set while more follow.
   */
  async who(room: string, page: { after?: string; limit?: number } = {}): Promise<FrameOf<"who">> {
    return (await this.request({ type: "who", room, ...page })) as FrameOf<"who">;
  }

  /**
   * Every member of `room`, page by page (each page one request of up to
   * `limit` members), so a crowded room is read without one huge frame.
   *
   * @example
   * ```ts
   * for await (const user of client.whoAll("lobby")) console.log(user.nick);
   * ```
   */
  async *whoAll(room: string, limit?: number): AsyncGenerator<WhoEntry> {
    let after: string | undefined;
    do {
      const page = await this.who(room, { ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }) });
      yield* page.users;
      after = page.next;
    } while (after !== undefined);
  }

  /** Every room with member count and last seq. */
  async listRooms(): Promise<FrameOf<"rooms">> {
    return (await this.request({ type: "rooms" })) as FrameOf<"rooms">;
  }

  /** Sets presence to `online` or `away` (with an optional note). */
  async setStatus(status: "online" | "away", note?: string): Promise<void> {
    await this.request(note === undefined ? { type: "status", status } : { type: "status", status, note });
  }

  /** Changes nick; an account's nick needs its `password` (then the client is logged in to it). */
  async changeNick(nick: string, password?: string): Promise<void> {
    await this.request(password === undefined ? { type: "nick", nick } : { type: "nick", nick, password });
    if (password !== undefined) this.#password = password;
  }

  /** Registers the current nick as an account with `password` (and logs in to it). */
  async register(password: string, email?: string): Promise<FrameOf<"account">> {
    const answer = await this.request(email === undefined ? { type: "register", password } : { type: "register", password, email });
    this.#password = password;
    return answer as FrameOf<"account">;
  }

  /** Changes the account's password. */
  async passwd(password: string, newPassword: string): Promise<FrameOf<"account">> {
    const answer = await this.request({ type: "passwd", password, new_password: newPassword });
    this.#password = newPassword;
    return answer as FrameOf<"account">;
  }

  /** Deletes the account; the client stays connected as a guest. */
  async drop(password: string): Promise<FrameOf<"account">> {
    const answer = await this.request({ type: "drop", password });
    this.#password = undefined;
    return answer as FrameOf<"account">;
  }

  /** Sets a room's topic ("" clears it). */
  async setTopic(room: string, topic: string): Promise<FrameOf<"topic">> {
    return (await this.request({ type: "topic", room, topic })) as FrameOf<"topic">;
  }

  /** Changes a room's modes (operators). */
  async setModes(room: string, modes: { invite_only?: boolean; key?: string; topic_lock?: boolean }): Promise<FrameOf<"mode">> {
    return (await this.request({ type: "mode", room, ...modes })) as FrameOf<"mode">;
  }

  /** Makes (`op` true) or unmakes a member an operator of `room`. */
  async setOperator(room: string, nick: string, op: boolean): Promise<FrameOf<"role">> {
    return (await this.request({ type: op ? "op" : "deop", room, nick })) as FrameOf<"role">;
  }

  /** Removes `nick` from `room` (it may come back). */
  async kick(room: string, nick: string, reason?: string): Promise<void> {
    await this.request(reason === undefined ? { type: "kick", room, nick } : { type: "kick", room, nick, reason });
  }

  /** Bans `nick` (its account when logged in) from `room`; resolves with the ban. */
  async ban(room: string, nick: string, reason?: string): Promise<FrameOf<"ban">> {
    return (await this.request(reason === undefined ? { type: "ban", room, nick } : { type: "ban", room, nick, reason })) as FrameOf<"ban">;
  }

  /** Lifts the ban with `mask` (`account:NAME` or `nick:NAME`). */
  async unban(room: string, mask: string): Promise<void> {
    await this.request({ type: "unban", room, mask });
  }

  /** The bans of `room` (operators). */
  async bans(room: string): Promise<FrameOf<"bans">> {
    return (await this.request({ type: "bans", room })) as FrameOf<"bans">;
  }

  /** Invites `nick` to `room`. */
  async invite(room: string, nick: string): Promise<void> {
    await this.request({ type: "invite", room, nick });
  }

  /** Disconnects `nick` from the server (server operators). */
  async kill(nick: string, reason?: string): Promise<void> {
    await this.request(reason === undefined ? { type: "kill", nick } : { type: "kill", nick, reason });
  }

  /** Says `quit` and closes; no reconnect. Resolves once the connection is closed. */
  async close(reason?: string): Promise<void> {
    this.#userClosed = true;
    clearTimeout(this.#retry);
    const conn = this.#conn;
    if (conn) {
      this.#write(conn, reason === undefined ? { type: "quit" } : { type: "quit", reason });
      // The server answers bye and closes; do not wait for ever on a dead peer.
      await Promise.race([conn.closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
      conn.close();
    }
    this.#shutdown();
    this.#setState("closed", "quit");
  }

  /** Opens a connection and registers; on a reconnect, rejoins rooms with `since`. */
  async #open(resumed: boolean): Promise<WelcomeFrame> {
    const conn = await this.#dial();
    this.#conn = conn;
    this.#lastHeardAt = Date.now();
    // Mark rooms before hello: the server re-joins the default room right after welcome, and
    // that snapshot (without since) must not move our place in the room.
    for (const room of this.#rooms.values()) room.resuming = resumed;
    conn.start((text) => this.#onLine(text));
    void conn.closed.then((reason) => {
      if (this.#conn === conn) this.#onLost(reason);
    });
    const welcome = await this.#register(resumed);
    this.#welcome = welcome;
    this.#startHeartbeat(welcome);
    this.#setState("online");
    this.emit("welcome", { welcome, resumed });
    if (resumed) await this.#resumeRooms();
    return welcome;
  }

  /** Sends hello; on a reconnect, waits out the server's timeout of our old session before taking another nick. */
  async #register(resumed: boolean): Promise<WelcomeFrame> {
    const deadline = Date.now() + (this.#welcome?.heartbeat.timeout_ms ?? 0) + NICK_RECLAIM_MARGIN_MS;
    for (let attempt = 0;; attempt++) {
      try {
        const hello: ClientFrame = { type: "hello", nick: this.#nick };
        if (this.options.client) hello.client = this.options.client;
        if (this.#password !== undefined) hello.password = this.#password;
        const welcome = (await this.request(hello)) as WelcomeFrame;
        this.#account = welcome.account;
        return welcome;
      } catch (error) {
        if (!resumed || !(error instanceof ChatError) || error.code !== "nick_taken") throw error;
        if (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, this.#backoff, this.options.random)));
          continue;
        }
        const old = this.#nick;
        this.#nick = `${this.options.nick.slice(0, 28)}_${(attempt % 900) + 100}`;
        this.emit("renamed", { old, new: this.#nick });
      }
    }
  }

  async #resumeRooms(): Promise<void> {
    for (const [name, room] of this.#rooms) {
      for (;;) {
        try {
          await this.join(name, room.lastSeq);
          // A new incarnation: our seqs mean nothing there, so ask for everything it kept.
          if (room.refetch) await this.join(name, 0);
          break;
        } catch (error) {
          // Joins are rate limited: a client in many rooms waits its turn.
          if (error instanceof ChatError && error.code === "rate_limited") {
            await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? 200));
            continue;
          }
          // Lost again mid-resume: the next reconnect tries again.
          return;
        }
      }
    }
  }

  #onLine(line: string): void {
    this.#lastHeardAt = Date.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(line);
    } catch {
      return; // The text greeting or anything else that is not ours.
    }
    switch (frame.type) {
      case "ping":
        if (this.#conn) this.#write(this.#conn, { type: "pong", t: frame.t });
        return;
      case "msg":
        this.#onMsg(frame);
        break;
      case "room":
        this.#onRoom(frame);
        break;
      case "left":
        this.#rooms.delete(frame.room);
        this.#roomInfo.delete(frame.room);
        this.emit("left", frame);
        break;
      case "leave":
        // Kicked or banned: the client is out of the room and must not rejoin it on a reconnect.
        if (frame.nick === this.#nick) {
          this.#rooms.delete(frame.room);
          this.#roomInfo.delete(frame.room);
        }
        this.emit("leave", frame);
        break;
      case "account":
        this.#account = frame.change === "dropped" ? undefined : frame.account;
        this.emit("account", frame);
        break;
      case "topic":
      case "mode":
      case "role":
        this.#noteRoomInfo(frame);
        this.emit(frame.type, frame as never);
        break;
      case "ban":
      case "invite":
        this.emit(frame.type, frame as never);
        break;
      case "nick":
        if (frame.old === this.#nick) this.#nick = frame.new;
        this.emit("nick", frame);
        break;
      case "bye":
        // quit is ours; any other reason means the server dropped us and we come back.
        this.emit("bye", frame);
        break;
      case "error":
        if (frame.id === undefined || !this.#pending.has(frame.id)) this.emit("error", frame);
        break;
      case "dm":
      case "join":
      case "presence":
      case "crowd":
        this.emit(frame.type, frame as never);
        break;
    }
    if ("id" in frame && frame.id !== undefined) this.#answer(frame.id, frame);
  }

  #answer(id: string, frame: ServerFrame): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (frame.type === "error") {
      pending.reject(new ChatError(frame.code, frame.message, frame.field, frame.retry_after_ms));
    } else {
      pending.resolve(frame);
    }
  }

  #onMsg(msg: MsgFrame): void {
    const room = this.#rooms.get(msg.room);
    // While catching up, live messages are left to the snapshot that follows (it holds them too).
    if (room?.resuming) return;
    if (room?.buffered) {
      room.buffered.push(msg);
      return;
    }
    if (room && msg.seq <= room.lastSeq) return;
    if (room) room.lastSeq = msg.seq;
    this.emit("msg", msg);
  }

  /** A snapshot: emits the history the client has not seen and follows the room from its seq. */
  #onRoom(snapshot: RoomFrame): void {
    let room = this.#rooms.get(snapshot.room);
    // The server's automatic default-room join after a reconnect carries no `since`; our own join does.
    if (room?.resuming && snapshot.id === undefined) return;
    if (room?.resuming && room.epoch !== undefined && snapshot.epoch !== room.epoch && !room.refetch) {
      // The server forgot the room (a restart) and its seqs began again: what came after our
      // `since` is not all we missed. Emit nothing yet; #resumeRooms asks again from seq 0.
      room.refetch = true;
      room.lastSeq = 0;
      return;
    }
    const resumed = room?.resuming === true;
    room ??= { lastSeq: 0, resuming: false };
    room.refetch = false;
    // Also for servers that send no epoch: a seq that went backwards means the room began again.
    if ((room.epoch !== undefined && snapshot.epoch !== room.epoch) || snapshot.seq < room.lastSeq) room.lastSeq = 0;
    room.epoch = snapshot.epoch;
    this.#rooms.set(snapshot.room, room);
    this.#roomInfo.set(snapshot.room, { topic: snapshot.topic ?? "", ops: snapshot.ops ?? [], modes: snapshot.modes });
    const before = room.lastSeq;
    room.resuming = false;
    this.emit("room", snapshot);
    const start: CatchUpStart = { resumed, before, caughtUp: 0 };
    this.#emitNew(room, snapshot.history, start);
    if (snapshot.more) {
      // The rest comes page by page; live messages wait in `buffered` so order holds. A catch-up
      // already running pages on from the last seq until nothing follows, so it covers this one too.
      if (room.catchUp === undefined) {
        room.buffered = [];
        room.catchUp = this.#catchUp(snapshot.room, room, start);
      }
      return;
    }
    room.lastSeq = Math.max(room.lastSeq, snapshot.seq);
    this.#endCatchUp(snapshot.room, start);
  }

  /** Emits the messages of `msgs` newer than the room's last seq, in order. */
  #emitNew(room: JoinedRoom, msgs: MsgFrame[], start: CatchUpStart): void {
    for (const msg of msgs) {
      if (msg.seq <= room.lastSeq) continue;
      room.lastSeq = msg.seq;
      start.first ??= msg.seq;
      start.caughtUp++;
      this.emit("msg", msg);
    }
  }

  #endCatchUp(name: string, start: CatchUpStart): void {
    if (!start.resumed) return;
    const lost = start.first === undefined ? 0 : Math.max(0, start.first - start.before - 1);
    this.emit("resumed", { room: name, caughtUp: start.caughtUp, lost });
  }

  /**
   * Pages the rest of a snapshot in with `history` `after`, one page at a
   * time: each page is at most what the server allows in one answer (well
   * under its `max_pending`), so however much history a resume covers the
   * client is never cut as a slow consumer. A lost connection ends it; the
   * reconnect resumes from the last seq emitted.
   */
  async #catchUp(name: string, room: JoinedRoom, start: CatchUpStart): Promise<void> {
    try {
      for (;;) {
        let page: HistoryFrame;
        try {
          page = await this.history(name, { after: room.lastSeq, limit: 100 });
        } catch (error) {
          // Pages spend rate-limit tokens: wait for one, as the server says.
          if (error instanceof ChatError && error.code === "rate_limited") {
            await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? 200));
            continue;
          }
          return;
        }
        if (this.#rooms.get(name) !== room) return;
        this.#emitNew(room, page.msgs, start);
        if (!page.more || page.msgs.length === 0) break;
      }
      const live = room.buffered ?? [];
      room.buffered = undefined;
      this.#emitNew(room, live, start);
      this.#endCatchUp(name, start);
    } finally {
      room.buffered = undefined;
      room.catchUp = undefined;
    }
  }

  /** Keeps topic, account operators and modes current from events. */
  #noteRoomInfo(frame: FrameOf<"topic"> | FrameOf<"mode"> | FrameOf<"role">): void {
    const info = this.#roomInfo.get(frame.room);
    if (!info) return;
    if (frame.type === "topic") info.topic = frame.topic;
    else if (frame.type === "mode") info.modes = frame.modes;
    else if (frame.account !== undefined) {
      info.ops = info.ops.filter((name) => name !== frame.account);
      if (frame.op) info.ops.push(frame.account);
    }
  }

  #startHeartbeat(welcome: WelcomeFrame): void {
    clearInterval(this.#heartbeat);
    const { interval_ms, timeout_ms } = welcome.heartbeat;
    this.#heartbeat = setInterval(() => {
      const conn = this.#conn;
      if (!conn) return;
      if (Date.now() - this.#lastHeardAt > timeout_ms) {
        // The server has gone quiet for longer than it would allow us: the link is dead.
        conn.close();
        return;
      }
      this.#write(conn, { type: "ping", t: Date.now() });
    }, interval_ms);
  }

  #onLost(reason: string): void {
    this.#conn = null;
    clearInterval(this.#heartbeat);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ChatError("disconnected", `connection lost (${reason})`));
      this.#pending.delete(id);
    }
    // Only a registered connection reconnects by itself; failed attempts are retried by their own loop.
    if (this.#userClosed || this.#state !== "online") return;
    if (this.options.reconnect === false) {
      this.#setState("closed", reason);
      return;
    }
    this.#scheduleReconnect(0, reason);
  }

  #scheduleReconnect(attempt: number, reason: string): void {
    const delayMs = backoffDelayMs(attempt, this.#backoff, this.options.random);
    this.#setState("reconnecting", reason, attempt + 1, delayMs);
    this.#retry = setTimeout(async () => {
      if (this.#userClosed) return;
      try {
        await this.#open(true);
      } catch (error) {
        this.#conn?.close();
        this.#conn = null;
        if (this.#userClosed) return;
        // A password that no longer works (changed or dropped elsewhere) will not start working: each
        // retry would only count as a wrong guess. Stop and say why.
        if (error instanceof ChatError && (error.code === "unauthorized" || error.code === "nick_reserved")) {
          this.#setState("closed", error.message);
          return;
        }
        this.#scheduleReconnect(attempt + 1, (error as Error).message);
      }
    }, delayMs);
  }

  get #backoff(): BackoffOptions {
    return this.options.backoff ?? DEFAULT_BACKOFF;
  }

  #write(conn: FrameLink, frame: ClientFrame): void {
    conn.send(JSON.stringify(frame));
  }

  #setState(state: ConnectionState, reason?: string, attempt?: number, delayMs?: number): void {
    this.#state = state;
    this.emit("state", { state, reason, attempt, delayMs });
  }

  #shutdown(): void {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    this.#conn?.close();
    this.#conn = null;
  }
}
