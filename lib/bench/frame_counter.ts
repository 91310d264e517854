/**
 * Counts what a bench connection receives without parsing JSON. Every server
 * frame starts with `{"type":"<name>"`, so a line is classified by its first
 * bytes: `msg` lines are counted (and their send-time stamp read from a known
 * position in the text), `error` and `bye` lines are counted and the first
 * one kept for the report; everything else is skipped. This runs on every
 * byte the bench receives, so it allocates nothing per line and only looks at
 * the head of each line.
 *
 * @module
 */

import type { LatencyHistogram } from "./histogram.ts";
import { readStamp, STAMP_BYTES } from "./stamp.ts";

const LF = 0x0a;
const AT = 0x40;
const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const M = 0x6d;
const S = 0x73;
const G = 0x67;
const encoder = new TextEncoder();
const TYPE_PREFIX = encoder.encode('{"type":"');
const MSG_PREFIX = encoder.encode('{"type":"msg"');
const ERROR_PREFIX = encoder.encode('{"type":"error"');
const BYE_PREFIX = encoder.encode('{"type":"bye"');
/** Bytes of a line's head kept when it spans two reads: enough for the stamp after the longest room and nick. */
const HEAD_BYTES = 256;
/** Characters of the first error or bye line kept for the report. */
const PROBLEM_CHARS = 200;

/**
 * Where an IRC subscriber's PRIVMSG line has its command and its text, for
 * messages from `nick` to room `room`: `:<nick>!<nick>@tcpchat PRIVMSG #<room> :`.
 */
export function ircMsgOffsets(room: string, nick: string): { commandAt: number; textAt: number } {
  const source = `:${nick}!${nick}@tcpchat `;
  return {
    commandAt: encoder.encode(source).length,
    textAt: encoder.encode(`${source}PRIVMSG #${room} :`).length,
  };
}

const COLON = 0x3a;
const PRIVMSG = encoder.encode("PRIVMSG ");
const IRC_ERROR = encoder.encode("ERROR ");

/**
 * Where the text starts in the server's `msg` frame for a given room and
 * sender: `{"type":"msg","room":"<room>","from":"<nick>","text":"`. The
 * bench gives all its publishers nicks and rooms of one length per run, so
 * this is one number for every message.
 */
export function msgTextOffset(room: string, nick: string): number {
  return encoder.encode(`{"type":"msg","room":"${room}","from":"${nick}","text":"`).length;
}

function startsWith(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * One connection's counter. Feed it the received byte stream in any chunking.
 *
 * @example
 * ```ts
 * const counter = new FrameCounter(new LatencyHistogram(), msgTextOffset("r0", "p0"));
 * for await (const chunk of conn.readable) counter.feed(chunk, nowMicros());
 * counter.msgs; // messages received
 * ```
 */
export class FrameCounter {
  /** `msg` lines received. */
  msgs = 0;
  /** `error` lines received. */
  errors = 0;
  /** `bye` lines received. */
  byes = 0;
  /** The first `error` or `bye` line (shortened), for the report. */
  firstProblem: string | undefined;
  readonly #latency: LatencyHistogram | null;
  readonly #stampAt: number;
  /** For an IRC subscriber: where PRIVMSG sits in a message line; -1 for JSON. */
  readonly #ircCommandAt: number;
  /** Head of a line that started in an earlier chunk; null while between lines. */
  #head: Uint8Array | null = null;
  #headLength = 0;
  #inLine = false;

  /**
   * `latency` receives now - stamp for each `msg` (null: no latency);
   * `stampAt` is the text's offset in a `msg` line ({@linkcode msgTextOffset});
   * an IRC subscriber's counter also gets `ircCommandAt` ({@linkcode ircMsgOffsets}).
   */
  constructor(latency: LatencyHistogram | null, stampAt: number, ircCommandAt = -1) {
    this.#latency = latency;
    this.#stampAt = stampAt;
    this.#ircCommandAt = ircCommandAt;
  }

  /** Feeds the next received bytes; `nowUs` < 0 records no latency for them. */
  feed(chunk: Uint8Array, nowUs: number): void {
    let start = 0;
    if (this.#inLine) {
      start = this.#continueLine(chunk, nowUs);
      if (start < 0) return;
    }
    const length = chunk.length;
    while (start < length) {
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        this.#beginLine(chunk, start);
        return;
      }
      this.#classify(chunk, start, lf, nowUs);
      start = lf + 1;
    }
  }

  #beginLine(chunk: Uint8Array, start: number): void {
    this.#head ??= new Uint8Array(HEAD_BYTES);
    const take = Math.min(chunk.length - start, HEAD_BYTES);
    this.#head.set(chunk.subarray(start, start + take));
    this.#headLength = take;
    this.#inLine = true;
  }

  /** Completes a line begun in an earlier chunk; returns where the next line starts, or -1. */
  #continueLine(chunk: Uint8Array, nowUs: number): number {
    const lf = chunk.indexOf(LF);
    const end = lf < 0 ? chunk.length : lf;
    const take = Math.min(end, HEAD_BYTES - this.#headLength);
    if (take > 0) {
      this.#head!.set(chunk.subarray(0, take), this.#headLength);
      this.#headLength += take;
    }
    if (lf < 0) return -1;
    this.#inLine = false;
    this.#classify(this.#head!, 0, this.#headLength, nowUs);
    return lf + 1;
  }

  /** Classifies the line `bytes[start, end)` (possibly only its head). */
  #classify(bytes: Uint8Array, start: number, end: number, nowUs: number): void {
    if (this.#ircCommandAt >= 0) return this.#classifyIrc(bytes, start, end, nowUs);
    // Every server frame starts with {"type":" (the protocol puts type first, in
    // compact JSON), so `{` and `"msg"` at offset 8 identify a msg line.
    if (
      end - start >= MSG_PREFIX.length && bytes[start] === OPEN_BRACE && bytes[start + 12] === QUOTE &&
      bytes[start + 9] === M && bytes[start + 10] === S && bytes[start + 11] === G && bytes[start + 8] === QUOTE
    ) {
      this.msgs++;
      if (nowUs >= 0 && this.#latency !== null) this.#recordLatency(bytes, start, end, nowUs);
    } else if (startsWith(bytes, start, end, TYPE_PREFIX)) {
      if (startsWith(bytes, start, end, ERROR_PREFIX)) this.errors++;
      else if (startsWith(bytes, start, end, BYE_PREFIX)) this.byes++;
      else return;
      this.firstProblem ??= new TextDecoder().decode(bytes.subarray(start, Math.min(end, start + PROBLEM_CHARS)));
    }
  }

  /** IRC: `:source PRIVMSG ...` lines are messages; an `ERROR` line is the server's goodbye. */
  #classifyIrc(bytes: Uint8Array, start: number, end: number, nowUs: number): void {
    if (bytes[start] === COLON && startsWith(bytes, start + this.#ircCommandAt, end, PRIVMSG)) {
      this.msgs++;
      if (nowUs >= 0 && this.#latency !== null) this.#recordLatency(bytes, start, end, nowUs);
    } else if (startsWith(bytes, start, end, IRC_ERROR)) {
      this.byes++;
      this.firstProblem ??= new TextDecoder().decode(bytes.subarray(start, Math.min(end, start + PROBLEM_CHARS)));
    }
  }

  #recordLatency(bytes: Uint8Array, start: number, end: number, nowUs: number): void {
    let sentUs = readStamp(bytes, start + this.#stampAt, end);
    if (sentUs < 0) {
      // Not at the expected place (another sender, another frame layout): look for it.
      const at = bytes.indexOf(AT, start);
      if (at < 0 || at + STAMP_BYTES > end) return;
      sentUs = readStamp(bytes, at, end);
    }
    if (sentUs >= 0 && sentUs <= nowUs) this.#latency!.record(nowUs - sentUs);
  }
}
