/**
 * IRCv3 draft/chathistory over the hub's room history: each CHATHISTORY
 * command becomes exactly one `history` frame (PROTOCOL section 10), so it
 * obeys the same membership rule, rate limit and byte cap as a JSON client's
 * page; the answer is rendered as a `chathistory` batch of PRIVMSGs with
 * `time` and `msgid` tags.
 *
 * References become seqs: a `msgid=` names its seq (msgref.ts); a
 * `timestamp=` is turned into one by the hub's read-only
 * `historyAt` lookup, because the `history` frame pages by seq only.
 * Every subcommand is then one seq window (see {@linkcode planChathistory}):
 *
 * - LATEST `*` | ref: the newest messages (after ref).
 * - BEFORE ref / AFTER ref: the nearest messages on that side, ref excluded.
 * - AROUND ref: a window of `limit` messages centred on ref, a msgid's own
 *   message (or the messages sent in a timestamp's millisecond) included.
 * - BETWEEN a b: the messages strictly between, nearest `a` first (when `a`
 *   is the later one, the newest before `a` down to `b`).
 *
 * The server keeps no direct-message history: a nick target gets an empty
 * batch, as for any target with no history. TARGETS lists the channels the
 * client is in that had messages between two times (the same read-only
 * lookup gives each one's newest message time; no frame, no rate token).
 *
 * @module
 */
import type { HistoryRequest } from "../../hub/history_paging.ts";
import type { ErrorFrame, MsgFrame, ServerFrame } from "../../protocol/server_frames.ts";
import { type IrcMessage } from "./message.ts";
import { type MsgRef, type MsgRefProblem, parseMsgRef } from "./msgref.ts";
import { messageTags, textLines } from "./render.ts";
import type { IrcSession } from "./session.ts";

/** The most messages one CHATHISTORY returns: the `history` frame's largest `limit`. */
export const CHATHISTORY_MAX = 100;

/** CHATHISTORY answers a client may be waiting for at once (only a slow history store makes any wait). */
export const MAX_WAITING_ASKS = 8;

/** The subcommands offered. */
export const SUBCOMMANDS = ["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN"] as const;
/** A subcommand. */
export type Subcommand = typeof SUBCOMMANDS[number];

/** A CHATHISTORY command as read from its parameters. */
export interface ChathistoryCommand {
  sub: Subcommand;
  /** The target as the client wrote it (a channel or a nick). */
  target: string;
  /** One reference (two for BETWEEN). */
  refs: MsgRef[];
  /** The limit asked for, capped at {@linkcode CHATHISTORY_MAX}. */
  limit: number;
}

/** A standard reply (`FAIL CHATHISTORY <code> <params...> :<text>`) for a command that cannot be run. */
export interface ChathistoryFail {
  code: "UNKNOWN_COMMAND" | "NEED_MORE_PARAMS" | "INVALID_PARAMS" | "INVALID_TARGET" | "MESSAGE_ERROR";
  params: string[];
  text: string;
}

/** Reads `CHATHISTORY <sub> <target> <ref> [<ref>] <limit>`. */
export function parseChathistory(params: string[]): ChathistoryCommand | ChathistoryFail {
  if (params.length === 0) return { code: "NEED_MORE_PARAMS", params: ["*"], text: "Missing parameters" };
  const sub = params[0].toUpperCase();
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    return { code: "UNKNOWN_COMMAND", params: [params[0]], text: "Unknown command" };
  }
  const refCount = sub === "BETWEEN" ? 2 : 1;
  if (params.length < 3 + refCount) return { code: "NEED_MORE_PARAMS", params: [sub], text: "Missing parameters" };
  const target = params[1];
  const refs: MsgRef[] = [];
  for (const raw of params.slice(2, 2 + refCount)) {
    const ref = parseMsgRef(raw, sub === "LATEST");
    if (typeof ref === "string") return refFail(sub, target, raw, ref);
    refs.push(ref);
  }
  const rawLimit = params[2 + refCount];
  const limit = /^[0-9]{1,9}$/.test(rawLimit) ? Number(rawLimit) : 0;
  if (limit < 1) return { code: "INVALID_PARAMS", params: [sub, rawLimit], text: "The limit must be a whole number of at least 1" };
  return { sub: sub as Subcommand, target, refs, limit: Math.min(limit, CHATHISTORY_MAX) };
}

function refFail(sub: string, target: string, raw: string, problem: MsgRefProblem): ChathistoryFail {
  return problem === "unknown_msgid"
    ? { code: "MESSAGE_ERROR", params: [sub, target, raw], text: "Unknown msgid" }
    : { code: "INVALID_PARAMS", params: [sub, raw], text: "A reference is msgid=<id>, timestamp=<YYYY-MM-DDThh:mm:ss.sssZ> or (LATEST only) *" };
}

/**
 * Where a reference falls among a room's seqs: messages with seq > `after`
 * come after it, messages with seq < `before` before it. For a msgid both are
 * its seq; for a timestamp T, `after` is the newest message sent at or before
 * T and `before` one past the newest sent before T.
 */
interface Position {
  after: number;
  before: number;
}

/** Turns a send time into the seq of the newest message sent at or before it; null for a non-member. */
export type SeqAtTime = (ts: number) => number | null;

/** The `history` frame one CHATHISTORY becomes, and what of its answer to keep. */
export interface ChathistoryPlan {
  query: HistoryRequest & { limit: number };
  /** Messages with seq at or below this are dropped from the answer (LATEST after a ref, BETWEEN backwards). */
  keepAbove: number;
  /** The highest seq a msgid reference names: an answer from a room whose latest seq is below it did not issue it. */
  namedSeq: number;
}

/** The single `history` query for a command on channel `room`. */
export function planChathistory(command: ChathistoryCommand, room: string, seqAt: SeqAtTime): ChathistoryPlan | ChathistoryFail {
  const positions: Position[] = [];
  let namedSeq = 0;
  for (const ref of command.refs) {
    if (ref.kind === "msgid") {
      if (ref.msgid.room !== room) {
        return { code: "MESSAGE_ERROR", params: [command.sub, command.target], text: "That msgid is not from this channel" };
      }
      positions.push({ after: ref.msgid.seq, before: ref.msgid.seq });
      namedSeq = Math.max(namedSeq, ref.msgid.seq);
    } else if (ref.kind === "timestamp") {
      // A non-member gets null: the frame goes to the hub anyway, which answers not_in_room.
      const atOrBefore = seqAt(ref.ts) ?? 0;
      const before = (seqAt(ref.ts - 1) ?? 0) + 1;
      positions.push({ after: atOrBefore, before });
    } else {
      positions.push({ after: Infinity, before: Infinity });
    }
  }
  const { limit } = command;
  const [a, b] = positions;
  const plan = (query: HistoryRequest, keepAbove = 0): ChathistoryPlan => ({
    query: { ...query, limit },
    keepAbove,
    namedSeq,
  });
  switch (command.sub) {
    case "LATEST":
      // The newest page, cut at the reference: if more than `limit` follow it, the newest `limit` are the answer.
      return plan({}, a.after === Infinity ? 0 : a.after);
    case "BEFORE":
      return plan({ before: a.before });
    case "AFTER":
      return plan({ after: a.after });
    case "AROUND": {
      // The window is centred on the messages the reference names (seqs a.before..a.after: a msgid's own
      // message, or those sent in the timestamp's millisecond, or none between two neighbours). Asked as
      // "the newest before its end", so near the newest message it slides back, and near the first it
      // starts at the first: either way a full window when the room has one.
      const start = Math.max(0, Math.floor((a.before + a.after - limit) / 2));
      return plan({ before: start + limit + 1 });
    }
    case "BETWEEN":
      if (a.after < b.before) return plan({ after: a.after, before: b.before });
      // Backwards: the newest before `a`, none at or below `b`.
      return plan({ before: a.before }, b.after);
  }
}

/** `CHATHISTORY TARGETS <timestamp> <timestamp> <limit>` as read. */
export interface TargetsCommand {
  /** The first timestamp: the list starts on its side. */
  from: number;
  to: number;
  limit: number;
}

/** Reads the parameters of TARGETS (after the subcommand); both references must be timestamps. */
export function parseTargets(params: string[]): TargetsCommand | ChathistoryFail {
  if (params.length < 4) return { code: "NEED_MORE_PARAMS", params: ["TARGETS"], text: "Missing parameters" };
  const times: number[] = [];
  for (const raw of params.slice(1, 3)) {
    const ref = parseMsgRef(raw);
    if (typeof ref === "string" || ref.kind !== "timestamp") {
      return { code: "INVALID_PARAMS", params: ["TARGETS", raw], text: "TARGETS takes two timestamp= references" };
    }
    times.push(ref.ts);
  }
  const limit = /^[0-9]{1,9}$/.test(params[3]) ? Number(params[3]) : 0;
  if (limit < 1) return { code: "INVALID_PARAMS", params: ["TARGETS", params[3]], text: "The limit must be a whole number of at least 1" };
  return { from: times[0], to: times[1], limit: Math.min(limit, CHATHISTORY_MAX) };
}

/**
 * The targets with messages strictly between the two times, each with the
 * send time of its newest such message, oldest first; at most `limit`,
 * counted from `from`'s side (as BETWEEN does). `latest` gives, for a time,
 * the newest message at or before it of each channel the client is in.
 */
export function listTargets(
  command: TargetsCommand,
  channels: string[],
  latestAtOrBefore: (channel: string, ts: number) => number | undefined,
): { target: string; ts: number }[] {
  const low = Math.min(command.from, command.to);
  const high = Math.max(command.from, command.to);
  const active: { target: string; ts: number }[] = [];
  for (const channel of channels) {
    const ts = latestAtOrBefore(channel, high - 1);
    if (ts !== undefined && ts > low) active.push({ target: channel, ts });
  }
  active.sort((a, b) => a.ts - b.ts || (a.target < b.target ? -1 : 1));
  return command.from <= command.to ? active.slice(0, command.limit) : active.slice(-command.limit);
}

/** The `draft/chathistory-targets` batch (plain lines without the `batch` capability). */
export function targetsLines(s: IrcSession, targets: { target: string; ts: number }[]): IrcMessage[] {
  const batched = s.has("batch");
  const id = `T${(++s.batchCount).toString(36)}`;
  const lines: IrcMessage[] = targets.map(({ target, ts }) => ({
    ...(batched ? { tags: { batch: id } } : {}),
    source: s.serverName,
    command: "CHATHISTORY",
    params: ["TARGETS", target, new Date(ts).toISOString()],
  }));
  if (!batched) return lines;
  return [
    { source: s.serverName, command: "BATCH", params: [`+${id}`, "draft/chathistory-targets"] },
    ...lines,
    { source: s.serverName, command: "BATCH", params: [`-${id}`] },
  ];
}

/** A CHATHISTORY sent to the hub and not answered yet. */
export interface HistoryAsk {
  command: ChathistoryCommand;
  channel: string;
  plan: ChathistoryPlan;
  /** The labeled-response label of the command, for an answer that comes after the command is done. */
  label: string | undefined;
  /** The id of its `history` frame, set when filed. */
  id?: string;
}

/** One connection's CHATHISTORY requests in flight, by the id of their `history` frame. */
export class HistoryAsks {
  #next = 0;
  readonly #waiting = new Map<string, HistoryAsk>();
  /** The ask of the CHATHISTORY command running now: a synchronous answer belongs to it. */
  current: HistoryAsk | null = null;

  /** Requests waiting for an answer. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Files `ask` and returns the frame id its answer will carry. */
  add(ask: HistoryAsk): string {
    const id = `irc-h${(++this.#next).toString(36)}`;
    ask.id = id;
    this.#waiting.set(id, ask);
    return id;
  }

  /** Takes the ask an answer with frame id `id` belongs to. */
  take(id: string | undefined): HistoryAsk | undefined {
    if (id === undefined) return undefined;
    const ask = this.#waiting.get(id);
    this.#waiting.delete(id);
    return ask;
  }

  /** Whether the answer for frame id `id` is still awaited. */
  has(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** Forgets the ask with frame id `id` (its command failed before the hub answered). */
  drop(id: string): void {
    this.#waiting.delete(id);
  }
}

/** `FAIL CHATHISTORY ...` */
export function failLine(s: IrcSession, fail: ChathistoryFail): IrcMessage {
  return { source: s.serverName, command: "FAIL", params: ["CHATHISTORY", fail.code, ...fail.params, fail.text] };
}

/** The `chathistory` batch of `msgs` for `target` (plain lines when the client did not enable `batch`). */
export function batchLines(s: IrcSession, target: string, msgs: MsgFrame[]): IrcMessage[] {
  const batched = s.has("batch");
  const id = `H${(++s.batchCount).toString(36)}`;
  const lines: IrcMessage[] = [];
  if (batched) lines.push({ source: s.serverName, command: "BATCH", params: [`+${id}`, "chathistory", target] });
  for (const msg of msgs) {
    const tags = messageTags(msg, s.caps);
    lines.push(...textLines(msg.from, target, msg.text, false, batched ? { batch: id, ...tags } : tags));
  }
  if (batched) lines.push({ source: s.serverName, command: "BATCH", params: [`-${id}`] });
  return lines;
}

/**
 * The lines for the hub's answer to a CHATHISTORY `history` frame. An answer
 * that comes while its command runs joins the command's lines; a later one
 * (from an asynchronous history store) is written at once, with its label.
 */
export function renderHistoryAnswer(s: IrcSession, frame: Extract<ServerFrame, { type: "history" }>): IrcMessage[] {
  const ask = s.historyAsks.take(frame.id);
  if (ask === undefined) return [];
  const { plan, command, channel } = ask;
  const lines = plan.namedSeq > frame.seq
    ? [failLine(s, { code: "MESSAGE_ERROR", params: [command.sub, command.target], text: "Unknown msgid" })]
    : batchLines(s, channel, frame.msgs.filter((m) => m.seq > plan.keepAbove));
  if (ask === s.historyAsks.current) return lines;
  s.writeLabelled(ask.label, lines);
  return [];
}

/** The FAIL for a hub error answering a CHATHISTORY: not a member (or no such channel), or rate limited. */
export function renderHistoryError(s: IrcSession, frame: ErrorFrame): IrcMessage[] {
  // Errors come while the command runs; one without an id (a frame the schema refused) is the running command's too.
  const ask = s.historyAsks.current;
  if (ask?.id !== undefined) s.historyAsks.drop(ask.id);
  const sub = ask?.command.sub ?? "*";
  const target = ask?.command.target ?? "*";
  switch (frame.code) {
    case "not_in_room":
    case "no_such_room":
      return [failLine(s, { code: "INVALID_TARGET", params: [sub, target], text: "Join the channel to read its history" })];
    case "rate_limited":
      return [failLine(s, {
        code: "MESSAGE_ERROR",
        params: [sub, target, "rate_limited"],
        text: `Messages could not be retrieved: too many requests, try again in ${frame.retry_after_ms} ms`,
      })];
    default:
      return [failLine(s, { code: "MESSAGE_ERROR", params: [sub, target, frame.code], text: `Messages could not be retrieved: ${frame.message}` })];
  }
}
