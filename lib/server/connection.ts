/**
 * One client connection on the server: reads lines (or WebSocket messages),
 * fixes the dialect from the first one, turns them into hub commands, and
 * owns the bounded outbound queue that the write scheduler flushes with one
 * write per turn. The socket under it is a {@linkcode Transport}.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Hub } from "../hub/hub.ts";
import type { Session } from "../hub/session.ts";
import { type ClientFrame, decodeJsonFrame, validateClientFrame } from "../protocol/client_frames.ts";
import { LineSplitter } from "../protocol/line_splitter.ts";
import {
  type ByeReason,
  type ErrorCode,
  encodeJsonFrame,
  errorFrame,
  type ErrorFrame,
  type LeaveReason,
  type ServerFrame,
} from "../protocol/server_frames.ts";
import { noteHistoryPage, parseTextLine, TEXT_HELP, type TextState } from "../protocol/text_commands.ts";
import { printable, renderTextFrame } from "../protocol/text_render.ts";
import { noteTextFrame, topicLine } from "../protocol/text_state.ts";
import { TelnetFilter } from "../protocol/telnet.ts";
import { encodeLines, type IrcRenderCache, IrcSession, isIrcRegistrationLine, renderEvent } from "../dialect/irc/mod.ts";
import { type ConnectionFields, traceError } from "../ops/trace.ts";
import { LogThrottle } from "../ops/log_throttle.ts";
import { WRITTEN } from "../runtime/types.ts";
import type { LivenessState } from "./liveness.ts";
import { plaintextAuthRefusal } from "./plaintext_auth.ts";
import { type BatchCache, OutboundQueue } from "./outbound_queue.ts";
import { ConnectionExtras } from "./connection_extras.ts";
import type { ServerStats } from "./server_stats.ts";
import type { Flushable, WriteScheduler } from "./write_scheduler.ts";
import type { InboundSink, Transport } from "./transport.ts";
import type { NetAddr } from "../runtime/types.ts";

/**
 * Why a connection ended, as logged and counted: a leave reason from the
 * protocol, or one of the transport's own.
 */
export type DisconnectReason =
  | LeaveReason
  | "register_timeout"
  | "server_full"
  | "reset"
  | "error"
  | "frame_too_large"
  | "tls_handshake";

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly settings: Settings;
  readonly hub: Hub<Connection>;
  readonly scheduler: WriteScheduler;
  readonly stats: ServerStats;
  now(): number;
  /** The TLS listener's address, when there is one (named in `tls_required` errors). */
  readonly tlsAddr?: NetAddr;
  /** Called once when the socket is closed, with why. */
  onClosed(connection: Connection, reason: DisconnectReason): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** Non-fatal: 3.4x faster on Deno; a U+FFFD in its output sends the line to the fatal decoder to decide. */
const utf8Lenient = new TextDecoder("utf-8");
const textEncoder = new TextEncoder();
/** After our FIN, how long a peer may take to close its side before we close hard. */
const LINGER_MS = 2000;
/**
 * When the chunk or message being handled arrived: set as each one starts
 * and read only while it is handled (synchronously: lines, frames, the hub),
 * so one variable serves every connection instead of a field each (issue 15).
 * IRC's callbacks, which may run later, read the clock themselves.
 */
let chunkNow = 0;
/** A splitter holding nothing, for the next connection whose chunk ends with its line; null while one is in use. */
let spareSplitter: LineSplitter | null = null;

/**
 * An idle splitter for one chunk: the spare (taken, so that a connection
 * handled meanwhile gets its own), or a new one. The caller gives it back
 * if the chunk left nothing behind, else keeps it.
 */
function sharedSplitter(maxFrame: number): LineSplitter {
  const spare = spareSplitter;
  spareSplitter = null;
  return spare !== null && spare.maxFrameBytes === maxFrame ? spare : new LineSplitter(maxFrame);
}

/** Bits of `Connection.#flags` (tested in place, not through private accessors, on the message path). */
const LATER_PENDING = 1;
const HEARD_FROM = 2;
/** Closing: whatever is queued is written, then FIN (`closeAfterFlush`). */
const CLOSE_AFTER_FLUSH = 4;
/** The socket is closed. */
const CLOSED = 8;

/** A client connection. */
export class Connection implements Flushable, LivenessState, InboundSink {
  dialect: "unknown" | "json" | "text" | "irc" = "unknown";
  readonly session: Session<Connection>;
  readonly connectedAt: number;
  lastInboundAt: number;
  lastPingAt = 0;
  writeStartedAt = 0;
  flushPending = false;
  /** Set while a fan-out run holds frames for this connection (fanout_run.ts): ended before anything else is queued. */
  fanoutRun: { end(): void } | null = null;
  /** When set, the connection is closing and this is why. */
  endReason: DisconnectReason | null = null;
  /** Four rarely written booleans in one field (LATER_PENDING ...): a smaller object per connection (issue 15). */
  #flags = 0;

  /** Made when a chunk leaves part of a line (or an overlong line) behind; until then, {@linkcode sharedSplitter}. */
  #splitter: LineSplitter | null = null;
  readonly #queue = new OutboundQueue();
  #inFlightBytes = 0;
  /** What few connections use (text, IRC, telnet, TLS, closing): made on first use (issue 15). */
  #extras: ConnectionExtras | null = null;
  /** `#onWriteSettled` as a callback, made on the first write that does not settle at once (never on Bun). */
  #settled: ((error?: unknown) => void) | null = null;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    readonly ctx: ConnectionContext,
    /** Accepted on the IRC listener: IRC from the first byte. */
    irc = false,
  ) {
    if (irc) this.dialect = "irc";
    const now = ctx.now();
    // A WebSocket message is one JSON frame: no first line to guess from.
    if (transport.framed) this.dialect = "json";
    this.connectedAt = now;
    this.lastInboundAt = now;
    this.session = ctx.hub.attach(this, now, transport.remoteAddr.hostname);
  }

  #flag(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** Write scheduler: set while the connection waits for the end of the event-loop turn. */
  get laterPending(): boolean {
    return (this.#flags & LATER_PENDING) !== 0;
  }
  set laterPending(on: boolean) {
    this.#flag(LATER_PENDING, on);
  }

  /** Whether any byte has arrived (the text greeting waits for silence). */
  get heardFrom(): boolean {
    return (this.#flags & HEARD_FROM) !== 0;
  }
  set heardFrom(on: boolean) {
    this.#flag(HEARD_FROM, on);
  }

  #more(): ConnectionExtras {
    return (this.#extras ??= new ConnectionExtras());
  }

  /** When a closing connection gets closed hard if the peer has not closed its side (0: not lingering). */
  get lingerDeadline(): number {
    return this.#extras?.lingerDeadline ?? 0;
  }
  set lingerDeadline(deadline: number) {
    this.#more().lingerDeadline = deadline;
  }

  /** When the greeting countdown started: at accept, or once the TLS handshake was done. */
  get greetFrom(): number {
    return this.#extras?.greetFrom ?? this.connectedAt;
  }
  set greetFrom(at: number) {
    if (at !== this.connectedAt || this.#extras !== null) this.#more().greetFrom = at;
  }

  /** Whether a TLS handshake is still under way. */
  get handshaking(): boolean {
    return this.#extras?.handshaking ?? false;
  }
  set handshaking(handshaking: boolean) {
    if (handshaking || this.#extras !== null) this.#more().handshaking = handshaking;
  }

  get #telnet(): TelnetFilter | null {
    return this.#extras?.telnet ?? null;
  }
  set #telnet(telnet: TelnetFilter | null) {
    this.#more().telnet = telnet;
  }

  get #text(): TextState | null {
    return this.#extras?.text ?? null;
  }
  set #text(text: TextState | null) {
    this.#more().text = text;
  }

  get #irc(): IrcSession | null {
    return this.#extras?.irc ?? null;
  }
  set #irc(irc: IrcSession | null) {
    this.#more().irc = irc;
  }

  get #firstLineSeen(): boolean {
    return this.#extras?.firstLineSeen ?? false;
  }
  set #firstLineSeen(seen: boolean) {
    this.#more().firstLineSeen = seen;
  }

  get #echoOff(): boolean {
    return this.#extras?.echoOff ?? false;
  }
  set #echoOff(off: boolean) {
    this.#more().echoOff = off;
  }

  get #logThrottle(): LogThrottle | null {
    return this.#extras?.logThrottle ?? null;
  }
  set #logThrottle(throttle: LogThrottle | null) {
    this.#more().logThrottle = throttle;
  }

  /** `ip:port` of the peer, for logs. */
  get peer(): string {
    const { hostname, port } = this.transport.remoteAddr;
    return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  }

  /** Who this is, for log lines: every line about a connection carries these. */
  get logFields(): ConnectionFields {
    return { conn: this.id, peer: this.peer, nick: this.session.nick ?? "-" };
  }

  /** Whether `hello` succeeded and the session is still in the hub. */
  get registered(): boolean {
    return this.session.registered;
  }

  /** Bytes waiting in this connection's queue, in flight, or buffered by the runtime (WebSocket). */
  get pendingBytes(): number {
    return this.#queue.bytes + this.#inFlightBytes + this.transport.bufferedBytes;
  }

  /** InboundSink: whether input is no longer wanted (the socket is closed). */
  get inputClosed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  /**
   * Reads until the peer is done; resolves when the socket is closed. Plain
   * callbacks, not an async function: a suspended one held ~500 B per idle
   * connection on Deno (its frame, registers and await closures; issue 15).
   */
  run(): Promise<void> {
    return this.transport.read(this).then((ended) => {
      if (ended) this.#onReadEnded();
      // Hooked here rather than at the start: one promise and closure less per idle connection.
      return this.transport.closed.then((reason) => this.#onSocketClosed(reason));
    });
  }

  /** InboundSink: one whole WebSocket text message, which is one frame. */
  onMessage(text: string): void {
    this.heardFrom = true;
    this.ctx.stats.bytesIn += text.length;
    if ((this.#flags & CLOSE_AFTER_FLUSH) !== 0) return;
    chunkNow = this.lastInboundAt = this.ctx.now();
    // A blank message is skipped, as a blank line is (it still counts as activity).
    if (text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim() === "")) return;
    this.#onText(text, text.length);
  }

  /** InboundSink: a binary WebSocket message; frames are text. */
  onBinary(byteLength: number): void {
    this.heardFrom = true;
    this.ctx.stats.bytesIn += byteLength;
    if ((this.#flags & CLOSE_AFTER_FLUSH) !== 0) return;
    chunkNow = this.lastInboundAt = this.ctx.now();
    this.#sendError("bad_frame", "binary message refused: send each JSON frame as one text message");
  }

  /** InboundSink: bytes of the TCP stream. */
  onChunk(chunk: Uint8Array): void {
    this.heardFrom = true;
    this.ctx.stats.bytesIn += chunk.length;
    if ((this.#flags & CLOSE_AFTER_FLUSH) !== 0) return; // Closing: input is read only to see the peer's FIN.
    chunkNow = this.ctx.now();
    if (this.dialect === "unknown") this.#pickDialect(chunk);
    if (this.dialect === "text" && (this.#telnet !== null || chunk.indexOf(0xff) >= 0)) {
      this.#telnet ??= new TelnetFilter();
      const { data, reply } = this.#telnet.push(chunk);
      if (reply) this.enqueue(reply);
      chunk = data;
    }
    if (this.#splitter !== null) return this.#splitter.push(chunk, this);
    // Whole lines need no state of their own: most connections never hold a splitter (issue 15).
    const splitter = sharedSplitter(this.ctx.settings.max_frame);
    splitter.push(chunk, this);
    if (splitter.idle) spareSplitter = splitter;
    else this.#splitter = splitter;
  }

  /**
   * Fixes the dialect from the first byte that is not white space: `{` starts
   * a JSON line, anything else a text line. This is the first-line rule of the
   * protocol, applied before the bytes are filtered, so a JSON client's input
   * never goes through the telnet filter (0xFF in it must be a `bad_frame`).
   */
  #pickDialect(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a) continue;
      this.dialect = byte === 0x7b ? "json" : "text";
      return;
    }
  }

  /** LineHandler: one complete line. */
  onLine(bytes: Uint8Array): void {
    if ((this.#flags & CLOSE_AFTER_FLUSH) !== 0) return;
    this.lastInboundAt = chunkNow;
    let line: string;
    try {
      line = utf8Lenient.decode(bytes);
      if (line.includes("\uFFFD")) line = utf8.decode(bytes);
    } catch {
      return this.#sendError("bad_frame", "line is not valid UTF-8");
    }
    this.#onText(line, bytes.length);
  }

  /** One decoded line or message; `byteLength` is its size on the wire (IRC's line limit). */
  #onText(line: string, byteLength: number): void {
    if (this.dialect === "unknown") {
      const start = line.trimStart();
      if (start === "") return;
      // JSON clients never negotiate telnet; 0xFF in their input is invalid UTF-8 and refused above.
      this.dialect = start.startsWith("{") ? "json" : "text";
    }
    if (this.dialect === "text" && !this.#firstLineSeen && line.trim() !== "") {
      this.#firstLineSeen = true;
      if (isIrcRegistrationLine(line)) this.dialect = "irc";
    }
    if (this.dialect === "json") this.#handleJson(line);
    else if (this.dialect === "irc") this.#ircSession().onLine(line, byteLength);
    else this.#handleText(line);
  }

  /** LineHandler: a line passed max_frame and is being skipped. */
  onTooLarge(): void {
    if (this.dialect === "irc") return this.#ircSession().inputTooLong();
    this.#sendError("frame_too_large", `line longer than ${this.#splitter?.maxFrameBytes ?? this.ctx.settings.max_frame} bytes dropped`);
  }

  #handleJson(line: string): void {
    const decoded = decodeJsonFrame(line);
    if (!decoded.ok) {
      const { code, message, field, id } = decoded.problem;
      return this.sendError(errorFrame(code, message, { id, field }));
    }
    const frame = decoded.frame;
    this.ctx.stats.framesIn[frame.type]++;
    // A msg never carries a password: the commonest frame skips the check (issue 15).
    if (frame.type !== "msg" && this.#refusesPlaintextPassword(frame)) return;
    this.ctx.hub.handle(this.session, frame, chunkNow);
  }

  #handleText(line: string): void {
    if (line.trim() === "") return;
    const text = this.#textState();
    text.registered = this.session.nick !== null;
    const input = parseTextLine(line.replace(/\0/g, ""), text);
    if (this.#echoOff && !text.passwordFor) {
      // The password line is in: echo back on, and end the line the user's Enter did not show.
      this.#echoOff = false;
      this.enqueue(this.#telnet!.echo(false));
      this.#enqueueText("");
    }
    switch (input.kind) {
      case "frame":
        this.ctx.stats.framesIn[input.frame.type]++;
        if (this.#refusesPlaintextPassword(input.frame)) return;
        return this.ctx.hub.handle(this.session, input.frame, chunkNow);
      case "help":
        return this.#enqueueText(TEXT_HELP.join("\r\n"));
      case "show_topic":
        return this.#enqueueText(printable(topicLine(text, input.room)));
      case "error":
        return this.#sendError(input.code, input.message);
    }
  }

  /** `plaintext_auth`: answers `tls_required` instead of passing on a password sent in clear. */
  #refusesPlaintextPassword(frame: ClientFrame | { type: "login"; password: string; id: string }): boolean {
    const kind = this.transport.kind;
    const transport = kind === "tls" || kind === "wss" ? "tls" : "tcp";
    const refusal = plaintextAuthRefusal(this.ctx.settings, transport, this.transport.remoteAddr.hostname, frame, this.ctx.tlsAddr?.port);
    if (refusal !== null) this.sendError(refusal);
    return refusal !== null;
  }

  #sendError(code: ErrorCode, message: string): void {
    this.sendError(errorFrame(code, message));
  }

  /** Queues an error frame with a new trace id, which its log line carries too. */
  sendError(frame: ErrorFrame): void {
    this.ctx.stats.countError(frame.code);
    const traced = traceError(frame, this.logFields, (this.#logThrottle ??= new LogThrottle()), this.ctx.now());
    // A person sees only code and message, so the trace goes into the message.
    if (this.#speaksText) traced.message += ` (trace ${traced.trace})`;
    this.sendFrame(traced);
  }

  /** Error lines the throttle left out and no line has counted yet, for the disconnect line; `{}` when none. */
  takeSuppressedLogs(): { suppressed?: Record<string, number> } {
    const suppressed = this.#logThrottle?.takeSuppressed();
    return suppressed ? { suppressed } : {};
  }

  get #speaksText(): boolean {
    return this.dialect === "text" || this.dialect === "unknown";
  }

  /** Queues one frame in this connection's dialect; `irc` shares IRC renderings within one broadcast. */
  sendFrame(frame: ServerFrame, irc?: IrcRenderCache): void {
    this.ctx.stats.framesOut[frame.type]++;
    if (this.dialect === "irc") return this.#ircSession().sendFrame(frame, irc);
    if (!this.#speaksText) return this.enqueue(encodeJsonFrame(frame));
    this.#trackTextState(frame);
    const line = renderTextFrame(frame, this.session.nick);
    if (line !== null) this.#enqueueText(line);
    if (noteTextFrame(this.#textState(), frame, this.session.nick) === "password" && this.#telnet !== null) {
      // Telnet clients stop echoing while the password is typed (nc users see their own typing; nothing can stop that).
      this.#echoOff = true;
      this.enqueue(this.#telnet.echo(true));
    }
  }

  /** Another user's login changed (IRC account-notify); only IRC connections call this. */
  noteAccount(subject: Session<Connection>): void {
    if (this.dialect === "irc" && subject.nick !== null) this.#ircSession().accountChanged(subject.nick, subject.account?.name);
  }

  /** The IRC side of this connection, made on first use. */
  #ircSession(): IrcSession {
    return (this.#irc ??= new IrcSession({
      settings: this.ctx.settings,
      version: this.ctx.hub.version,
      session: this.session,
      lookup: this.ctx.hub,
      submit: (frame) => {
        // The same schema as the other dialects, so every dialect obeys one set of rules.
        const result = validateClientFrame(frame);
        if (!result.ok) return this.#sendError(result.problem.code, result.problem.message);
        this.ctx.stats.framesIn[result.frame.type]++;
        if (this.#refusesPlaintextPassword(result.frame)) return;
        this.ctx.hub.handle(this.session, result.frame, this.ctx.now());
      },
      write: (bytes) => this.enqueue(bytes),
      // SASL, NickServ IDENTIFY, OPER: the hub's login, under the same plaintext_auth rule as any password.
      login: (name, password, id, done) => {
        if (this.#refusesPlaintextPassword({ type: "login", password, id })) return;
        this.ctx.hub.login(this.session, name, password, id, this.ctx.now(), done);
      },
    }));
  }

  #textState(): TextState {
    return (this.#text ??= { registered: false, currentRoom: null });
  }

  /** Keeps the text user's current room: the last joined room still joined. */
  #trackTextState(frame: ServerFrame): void {
    if (frame.type === "room") this.#textState().currentRoom = frame.room;
    else if (frame.type === "history") noteHistoryPage(this.#textState(), frame);
    else if (
      (frame.type === "left" || (frame.type === "leave" && frame.nick === this.session.nick)) &&
      this.#text?.currentRoom === frame.room
    ) {
      // A kicked member still lists the room while its leave is being told.
      this.#text.currentRoom = [...this.session.rooms].map((r) => r.name).filter((r) => r !== frame.room).at(-1) ?? null;
    }
  }

  #enqueueText(text: string): void {
    this.enqueue(textEncoder.encode(text.replaceAll("\n", "\r\n") + "\r\n"));
  }

  /** Queues bytes; past max_pending the connection is closed as a slow consumer. */
  enqueue(bytes: Uint8Array): void {
    if (this.fanoutRun !== null) this.fanoutRun.end();
    if ((this.#flags & CLOSED) !== 0 || this.endReason === "slow_consumer") return;
    this.#queue.push(bytes);
    if (this.pendingBytes > this.ctx.settings.max_pending) return this.dropSlowConsumer();
    // Already in the scheduler's list (every frame after the first of a turn): nothing to mark (issue 15).
    if (this.flushPending) return;
    if (this.#queue.bytes < this.transport.holdBytes) this.ctx.scheduler.markLater(this);
    else this.ctx.scheduler.mark(this);
  }

  /** Write scheduler: one write of everything queued, unless one is in flight. */
  flush(cache?: BatchCache): void {
    if ((this.#flags & CLOSED) !== 0 || this.#inFlightBytes > 0) return;
    const size = this.#queue.bytes;
    const written = this.transport.write(this.#queue, cache);
    if (written === null) {
      if ((this.#flags & CLOSE_AFTER_FLUSH) !== 0 && this.lingerDeadline === 0) this.#sendFin();
      return;
    }
    this.#inFlightBytes = size;
    this.ctx.stats.bytesOut += size;
    this.writeStartedAt = this.ctx.now();
    // Taken at once (Bun, Node over TCP): settle now, without a promise and a reaction per write (issue 15).
    if (written === WRITTEN) return this.#onWriteSettled();
    const settled = (this.#settled ??= (error) => this.#onWriteSettled(error));
    written.then(settled, settled);
  }

  /** One callback for both outcomes (one function less per connection): an error means a failed write. */
  #onWriteSettled(error?: unknown): void {
    this.#inFlightBytes = 0;
    this.writeStartedAt = 0;
    if (error !== undefined) return this.close("error");
    // Nothing more to write and no FIN owed: whatever is queued later marks itself.
    if (this.#queue.bytes === 0 && (this.#flags & CLOSE_AFTER_FLUSH) === 0) return;
    // Through the scheduler, never straight to flush: its pass commits the store first.
    this.ctx.scheduler.mark(this);
  }

  /**
   * Ends the connection politely: whatever is queued (a `bye`, say) is
   * written, then FIN; the socket closes when the peer closes its side or
   * after a short linger.
   */
  closeAfterFlush(reason: DisconnectReason): void {
    if ((this.#flags & (CLOSED | CLOSE_AFTER_FLUSH)) !== 0) return;
    this.endReason ??= reason;
    this.#flags |= CLOSE_AFTER_FLUSH;
    this.ctx.scheduler.mark(this);
  }

  #sendFin(): void {
    this.lingerDeadline = this.ctx.now() + LINGER_MS;
    this.transport.closeWrite(this.endReason ?? "disconnect").catch(() => this.close(this.endReason ?? "error"));
  }

  /**
   * Closes a reader that fell behind at once: its queue is dropped, a `bye`
   * is attempted, and its rooms hear `leave` slow_consumer once the current
   * broadcast is over (so no one sees the leave before the message that caused it).
   */
  dropSlowConsumer(): void {
    if ((this.#flags & CLOSED) !== 0 || this.endReason === "slow_consumer") return;
    this.endReason = "slow_consumer";
    this.ctx.stats.slowConsumers++;
    this.#queue.clear();
    queueMicrotask(() => {
      this.ctx.hub.detach(this.session, "slow_consumer");
      if (this.#inFlightBytes === 0) {
        const frame = { type: "bye", reason: "slow_consumer" } as const;
        const bye = this.dialect === "irc" ? encodeLines(renderEvent(frame, this.#ircSession().view)) : encodeJsonFrame(frame);
        this.ctx.stats.framesOut.bye++;
        this.ctx.stats.bytesOut += bye.length;
        this.transport.writeNow(bye);
      }
      this.close("slow_consumer");
    });
  }

  /** Sends a server ping (json and IRC connections). */
  ping(now: number): void {
    this.lastPingAt = now;
    this.sendFrame({ type: "ping", t: now });
  }

  /** Closes the socket now. */
  close(reason: DisconnectReason): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.endReason ??= reason;
    this.#flags |= CLOSED;
    this.#queue.clear();
    this.transport.close(this.endReason);
  }

  #onReadEnded(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    // The peer closed its side: finish what we owe it, then close. If we had already sent
    // our FIN, both sides are done.
    if (this.lingerDeadline > 0) return this.close(this.endReason ?? "disconnect");
    this.ctx.hub.detach(this.session, "disconnect");
    this.closeAfterFlush("disconnect");
  }

  #onSocketClosed(reason: DisconnectReason): void {
    this.#flags |= CLOSED;
    this.#queue.clear();
    const why: DisconnectReason = this.endReason ?? reason;
    this.ctx.hub.detach(this.session, toLeaveReason(why));
    this.ctx.onClosed(this, why);
  }

  /** Answers `bye` with `reason` through the hub and closes after flushing. */
  end(reason: ByeReason): void {
    this.ctx.hub.end(this.session, reason);
    this.closeAfterFlush(reason);
  }
}

/** The leave reason others hear for a disconnect reason. */
function toLeaveReason(reason: DisconnectReason): LeaveReason {
  switch (reason) {
    case "register_timeout":
      return "timeout";
    case "server_full":
    case "tls_handshake":
    case "reset":
    case "error":
    case "frame_too_large":
      return "disconnect";
    default:
      return reason;
  }
}
