/**
 * One IRC connection's side of the dialect: it parses lines, runs each
 * command through the command table, keeps the registration and capability
 * state, and renders what the hub sends back into IRC lines. Everything a
 * command causes for its sender is gathered while the command runs, so that
 * labeled-response can tag or batch it (the hub answers synchronously).
 *
 * @module
 */
import type { Settings } from "../../config/settings.ts";
import type { RoomModeration } from "../../hub/room_modes.ts";
import type { Session } from "../../hub/session.ts";
import type { ClientFrame } from "../../protocol/client_frames.ts";
import type { ModesView, ServerFrame } from "../../protocol/server_frames.ts";
import type { SaslExchange } from "./sasl.ts";
import { type CapName, CAPS, hasCap } from "./caps.ts";
import { HistoryAsks } from "./chathistory.ts";
import { COMMANDS } from "./commands.ts";
import { renderAnswer } from "./answers.ts";
import { encodeIrcMessage, type IrcMessage, MAX_CLIENT_TAG_BYTES, MAX_LINE_BYTES, parseIrcLine, utf8Length } from "./message.ts";
import { ircServerName } from "./isupport.ts";
import { N } from "./numerics.ts";
import { renderEvent, userSource, variantKey, type IrcView } from "./render.ts";

/** What the dialect can look up in the hub without sending it a frame (WHOIS, ISON, MODE). */
export interface IrcLookup {
  /** The connected session with this nick (matched as nicks are), if any. */
  sessionByNick(nick: string): Session<unknown> | undefined;
  /** Whether a room exists now. */
  hasRoom(name: string): boolean;
  /** For a member of `room`, its newest message sent at or before `ts` (seq, and send time if held); null for others (CHATHISTORY). */
  historyAt(session: Session<unknown>, room: string, ts: number): { seq: number; ts: number | undefined } | null;
  /** The room, for what IRC shows of it without a frame (its topic). */
  room(name: string): { readonly moderation: RoomModeration<unknown> } | undefined;
  /** Sessions, registered users and rooms right now. */
  counts(): { sessions: number; registered: number; rooms: number };
}

/** What an IRC session needs from its connection. */
export interface IrcHost {
  readonly settings: Settings;
  readonly version: string;
  /** This connection's hub session. */
  readonly session: Session<unknown>;
  readonly lookup: IrcLookup;
  /** Hands a frame to the hub (counted like any other dialect's). */
  submit(frame: ClientFrame): void;
  /** Queues bytes for the socket. */
  write(bytes: Uint8Array): void;
  /**
   * Logs this session in to account `name` through the hub's one login path
   * (Hub.login: the password check and its guessing limit); `done` gets the
   * account name on success, failures come back as error frames with `id`.
   */
  login(name: string, password: string, id: string, done: (account: string) => void): void;
}

/** What the command being run has gathered for its sender. */
export interface CommandContext {
  readonly command: string;
  /** The `label` tag, kept only when labeled-response is on. */
  readonly label: string | undefined;
  /** The channel or nick the command is about, for error numerics. */
  target?: string;
  /** Lines for the sender, written when the command is done. */
  readonly lines: IrcMessage[];
  /** The answer comes later (a CHATHISTORY waiting for a slow history store): no ACK for an empty reply now. */
  deferred?: boolean;
}

/** Shares one rendering of a broadcast among recipients with the same variant. */
export type IrcRenderCache = Map<number, Uint8Array>;

/** The id put on every frame sent to the hub, so its answers are told from broadcasts. */
export const IRC_FRAME_ID = "irc";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** The IRC dialect's state for one connection. */
export class IrcSession {
  /** Capability bits enabled with CAP REQ. */
  caps = 0;
  /** CAP LS or REQ before registration holds registration until CAP END. */
  capNegotiating = false;
  /** The nick given with NICK before registration. */
  pendingNick: string | null = null;
  /** The nick of the last INVITE sent, for its RPL_INVITING. */
  pendingInvitee: string | null = null;
  /** PASS before registration: the account password sent with the hub `hello` (kept only until then). */
  pendingPassword: string | null = null;
  /** USER's username and realname, once given. */
  user: { username: string; realname: string } | null = null;
  /** Channels (room names) this client has been shown a JOIN for. */
  readonly joined = new Set<string>();
  /** User modes set with MODE (cosmetic: `i`). */
  userModes = "";
  /** CHATHISTORY requests the hub has not answered yet (chathistory.ts). */
  readonly historyAsks = new HistoryAsks();
  /** A SASL PLAIN exchange in progress (sasl.ts). */
  sasl: SaslExchange | null = null;
  /** Each joined channel's modes as last shown, so a `mode` event shows as what changed. */
  readonly channelModes = new Map<string, ModesView>();
  /** The key of this client's own `MODE #chan +k KEY`, shown in its echo (others see `*`). */
  pendingKey: string | null = null;
  /** Batches opened on this connection, for unique batch ids. */
  batchCount = 0;
  #context: CommandContext | null = null;

  constructor(readonly host: IrcHost) {}

  /** The account a connected nick is logged in to (account-tag, extended-join). */
  readonly #accountOf = (nick: string): string | undefined => this.host.lookup.sessionByNick(nick)?.account?.name;

  /** The server name, source of server lines. */
  get serverName(): string {
    return ircServerName(this.host.settings.server_name);
  }

  /** Whether registration has completed (the hub accepted the nick). */
  get registered(): boolean {
    return this.host.session.nick !== null;
  }

  /** The nick numerics are addressed to: the registered nick, or `*`. */
  get target(): string {
    return this.host.session.nick ?? "*";
  }

  /** The running command's context (handlers set `target` on it). */
  get context(): CommandContext | null {
    return this.#context;
  }

  /** Whether the client enabled `cap`. */
  has(cap: CapName): boolean {
    return hasCap(this.caps, cap);
  }

  /** What rendering needs to know about this client. */
  get view(): IrcView {
    return { nick: this.host.session.nick, caps: this.caps, serverName: this.serverName, accountOf: this.#accountOf };
  }

  /** One line from the client (decoded UTF-8, CR LF removed), `byteLength` its size on the wire. */
  onLine(line: string, byteLength: number): void {
    let tagBytes = 0;
    if (line.startsWith("@")) {
      const space = line.indexOf(" ");
      tagBytes = utf8Length(space < 0 ? line : line.slice(0, space + 1));
    }
    if (tagBytes > MAX_CLIENT_TAG_BYTES || byteLength - tagBytes > MAX_LINE_BYTES) return this.inputTooLong();
    const message = parseIrcLine(line);
    if (message === null) return;
    const label = message.tags?.label;
    this.#context = { command: message.command, label: label !== undefined && this.has("labeled-response") ? label : undefined, lines: [] };
    try {
      this.#dispatch(message);
    } finally {
      const context = this.#context;
      this.#context = null;
      this.#writeContext(context);
    }
  }

  #dispatch(message: IrcMessage): void {
    const command = COMMANDS[message.command];
    if (command === undefined) {
      if (!this.registered) return this.reply(N.ERR_NOTREGISTERED, "You have not registered");
      return this.reply(N.ERR_UNKNOWNCOMMAND, message.command, "Unknown command");
    }
    if (!command.beforeRegistration && !this.registered) return this.reply(N.ERR_NOTREGISTERED, "You have not registered");
    if (message.params.length < command.minParams) {
      return this.reply(N.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters");
    }
    command.run(this, message);
  }

  /** ERR_INPUTTOOLONG: the line is dropped and the connection stays. */
  inputTooLong(): void {
    this.#writeNow([this.numeric(N.ERR_INPUTTOOLONG, "Input line was too long")]);
  }

  /** A numeric reply to this client, from the server, addressed to its nick. */
  numeric(code: string, ...params: string[]): IrcMessage {
    return { source: this.serverName, command: code, params: [this.target, ...params] };
  }

  /** Sends a numeric reply. */
  reply(code: string, ...params: string[]): void {
    this.send(this.numeric(code, ...params));
  }

  /** Sends a line to this client (gathered while a command runs). */
  send(message: IrcMessage): void {
    if (this.#context) this.#context.lines.push(message);
    else this.#writeNow([message]);
  }

  /**
   * Hands a frame to the hub, marked as this client's own so its answers are
   * recognised: with {@linkcode IRC_FRAME_ID}, or the frame's own id when it
   * has one (CHATHISTORY matches answers that may come later by id).
   */
  submit(frame: ClientFrame, target?: string): void {
    if (this.#context && target !== undefined) this.#context.target = target;
    this.host.submit({ ...frame, id: frame.id ?? IRC_FRAME_ID } as ClientFrame);
  }

  /** Writes the answer to a command that is already done (labelled as labeled-response says). */
  writeLabelled(label: string | undefined, lines: IrcMessage[]): void {
    this.#writeContext({ command: "", label, lines });
  }

  /**
   * A frame from the hub for this client. `cache` is shared by the
   * recipients of one broadcast: the same rendering goes to all of them.
   */
  sendFrame(frame: ServerFrame, cache?: IrcRenderCache): void {
    // Kicked or banned: out of the channel, so a later JOIN shows it again.
    if (frame.type === "leave" && frame.nick === this.host.session.nick) this.joined.delete(frame.room);
    // A broadcast (it comes with a cache) is an event, never an answer: the hot path of fan-out.
    // A `mode` event shows what changed for this client (channelModes): rare, rendered per client.
    if (cache !== undefined && this.#context === null && frame.type !== "mode") {
      // Computed per recipient, so without building a view: most recipients hit the cache.
      const key = variantKey(frame, this.host.session.nick, this.caps);
      let bytes = cache.get(key);
      if (bytes === undefined) {
        bytes = encodeLines(renderEvent(frame, this.view));
        cache.set(key, bytes);
      }
      if (bytes.length > 0) this.host.write(bytes);
      return;
    }
    const answer = renderAnswer(this, frame);
    if (answer !== null) {
      for (const line of answer) this.send(line);
      return;
    }
    for (const line of renderEvent(frame, this.view, this.#context?.command === "NOTICE")) this.send(line);
  }

  #writeNow(lines: IrcMessage[]): void {
    const bytes = encodeLines(lines);
    if (bytes.length > 0) this.host.write(bytes);
  }

  /** Writes what a command gathered, labelled as labeled-response says. */
  #writeContext(context: CommandContext): void {
    const { label } = context;
    let lines = context.lines;
    if (label !== undefined) {
      if (lines.length === 0) {
        if (context.deferred) return;
        lines = [{ tags: { label }, source: this.serverName, command: "ACK", params: [] }];
      } else if (lines.length === 1 || !this.has("batch") || isOneBatch(lines)) {
        // One batch (a CHATHISTORY answer) is its own logical response: the spec lets its start carry the
        // label, and clients that do not nest batches (irc-framework) would lose a nested one's messages.
        lines = [withTag(lines[0], "label", label), ...lines.slice(1)];
      } else {
        const id = `L${(++this.batchCount).toString(36)}`;
        lines = [
          { tags: { label }, source: this.serverName, command: "BATCH", params: [`+${id}`, "labeled-response"] },
          ...lines.map((line) => withTag(line, "batch", id)),
          { source: this.serverName, command: "BATCH", params: [`-${id}`] },
        ];
      }
    }
    this.#writeNow(lines);
  }

  /** account-notify: `nick` logged in to `account` (undefined: logged out). */
  accountChanged(nick: string, account: string | undefined): void {
    if (this.has("account-notify")) this.send({ source: userSource(nick), command: "ACCOUNT", params: [account ?? "*"] });
  }

  /** Turns on or off capabilities; returns false (changing nothing) if one is unknown. */
  setCaps(changes: { name: string; on: boolean }[]): boolean {
    let caps = this.caps;
    for (const { name, on } of changes) {
      const bit = (CAPS as Record<string, number>)[name];
      if (bit === undefined) return false;
      caps = on ? caps | bit : caps & ~bit;
    }
    this.caps = caps;
    return true;
  }
}

/** Whether `lines` are exactly one batch: its start, lines in it, its end. */
function isOneBatch(lines: IrcMessage[]): boolean {
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (first.command !== "BATCH" || !first.params[0]?.startsWith("+") || last.command !== "BATCH") return false;
  const id = first.params[0].slice(1);
  return last.params[0] === `-${id}` && lines.slice(1, -1).every((line) => line.tags?.batch === id);
}

function withTag(line: IrcMessage, key: string, value: string): IrcMessage {
  return { ...line, tags: { [key]: value, ...line.tags } };
}

/** Lines as wire bytes, CR LF after each. */
export function encodeLines(lines: IrcMessage[]): Uint8Array {
  if (lines.length === 0) return EMPTY;
  let text = "";
  for (const line of lines) text += encodeIrcMessage(line) + "\r\n";
  return encoder.encode(text);
}
