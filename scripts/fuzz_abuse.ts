/**
 * The fuzzer's abuse repertoire (issue 17): what a hostile client sends to
 * impersonate, confuse people or flood, and the invariants the server must
 * keep against it. `scripts/fuzz.ts` plays these as its `abuse` connections
 * and applies the checks to everything the server sends.
 *
 * - look-alike nicks of a user who is online (the fuzzer's sentinel):
 *   Cyrillic and Greek letters, invisible code points, Hangul fillers, mark
 *   stacks, fullwidth and case variants. None may ever be taken.
 * - messages, notes and direct messages holding bidi controls and line or
 *   paragraph separators: text users must never receive them raw.
 * - lone surrogates (`\ud800` escapes) in every string field: nobody may
 *   ever receive one.
 * - rename floods, and 40 frames in one write.
 *
 * @module
 */
import { nickKey } from "../lib/protocol/names.ts";

/** The part of the fuzzer's seeded PRNG the generators need. */
export interface AbuseRng {
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

const enc = new TextEncoder();

/** Code points that draw nothing (Default_Ignorable_Code_Point), and Hangul fillers. */
const INVISIBLE = ["\u034f", "\ufe0f", "\u{e0100}", "\u180b", "\u200d", "\u200b", "\u00ad", "\u2060", "\u{e0041}", "\u3164", "\uffa0", "\u115f", "\u1160"];
/** Latin letters and their Cyrillic or Greek twins. */
const TWINS: Record<string, string[]> = {
  a: ["\u0430", "\u03b1"], c: ["\u0441"], e: ["\u0435"], i: ["\u0456", "\u0131"], l: ["1", "\u04cf", "I"], n: ["\u0578"],
  o: ["\u043e", "\u03bf", "0", "\u0585"], p: ["\u0440", "\u03c1"], s: ["\u0455"], t: ["\u03c4"], x: ["\u0445"], y: ["\u0443"],
};
/** Bidi controls and separators a text user must never receive raw. */
export const NOT_INERT = /[\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const BREAKERS = ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029"];
const LONE = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud83d"];

/** A nick that looks like `victim` but is not it; the server must refuse it while `victim` is online. */
export function lookalikeNick(rng: AbuseRng, victim: string): string {
  const chars = [...victim];
  switch (rng.int(6)) {
    case 0: // an invisible code point somewhere
      chars.splice(rng.int(chars.length + 1), 0, rng.pick(INVISIBLE));
      return chars.join("");
    case 1: { // a letter swapped for its twin from another script
      const at = chars.findIndex((ch) => TWINS[ch] !== undefined);
      if (at >= 0) chars[at] = rng.pick(TWINS[chars[at]]);
      return chars.join("") === victim ? victim.toUpperCase() : chars.join("");
    }
    case 2: // a stack of combining marks
      return victim + "\u0301".repeat(3 + rng.int(30));
    case 3: // fullwidth
      return chars.map((ch) => (/[a-z0-9]/.test(ch) ? String.fromCodePoint(ch.codePointAt(0)! + 0xfee0) : ch)).join("");
    case 4: // blank: fillers only
      return rng.pick(["\u3164", "\uffa0", "\u115f"]).repeat(1 + rng.int(4));
    default: // another case
      return victim.toUpperCase();
  }
}

/** One JSON line, with `\ud800`-style escapes kept as they are (so they reach the server as lone surrogates). */
const line = (json: string) => json + "\n";

/**
 * One write of an abuse connection registered as `nick`, while `victim` is
 * online: a burst of 40 messages, a rename flood, look-alike renames, text
 * that is not inert, or lone surrogates.
 */
export function abuseWrite(rng: AbuseRng, nick: string, victim: string): Uint8Array {
  const room = rng.chance(0.7) ? "lobby" : "abuse";
  let out = "";
  switch (rng.int(5)) {
    case 0: // 40 frames in one write
      for (let i = 0; i < 40; i++) out += line(JSON.stringify({ type: "msg", room, text: `burst ${i}` }));
      break;
    case 1: // rename flood: to fresh names and back
      for (let i = 0, n = 5 + rng.int(30); i < n; i++) out += line(JSON.stringify({ type: "nick", nick: `${nick}r${i}` }));
      out += line(JSON.stringify({ type: "nick", nick }));
      break;
    case 2: // look-alike renames and hellos
      for (let i = 0, n = 1 + rng.int(6); i < n; i++) {
        out += line(JSON.stringify({ type: rng.chance(0.8) ? "nick" : "hello", nick: lookalikeNick(rng, victim) }));
      }
      break;
    case 3: { // text that must be inert for text users
      const text = Array.from({ length: 1 + rng.int(6) }, () => rng.pick(BREAKERS) + "x").join("");
      out += line(JSON.stringify(
        rng.pick([
          { type: "msg", room: "lobby", text },
          { type: "dm", to: victim, text },
          { type: "status", status: "away", note: text },
        ]),
      ));
      break;
    }
    default: { // lone surrogates in every string field
      const bad = `a${rng.pick(LONE)}b`;
      out += line(rng.pick([
        `{"type":"msg","room":"lobby","text":"${bad}"}`,
        `{"type":"dm","to":"${victim}","text":"${bad}"}`,
        `{"type":"dm","to":"${bad}","text":"x"}`,
        `{"type":"nick","nick":"${bad}"}`,
        `{"type":"status","status":"away","note":"${bad}"}`,
        `{"type":"ping","id":"${bad}"}`,
        `{"type":"quit","reason":"${bad}"}`,
      ]));
    }
  }
  return enc.encode(out);
}

/** Every string inside a parsed frame. */
function* strings(value: unknown): Generator<string> {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      yield key;
      yield* strings(item);
    }
  }
}

/**
 * What is wrong in one frame the server sent (to anyone), while `victim` is
 * online: a lone surrogate anywhere, or a nick other than `victim` that is
 * one with it (a look-alike that got through).
 */
export function frameProblems(frame: Record<string, unknown>, victim: string): string[] {
  const problems: string[] = [];
  for (const s of strings(frame)) {
    if (!s.isWellFormed()) problems.push(`a lone surrogate reached a client: ${JSON.stringify(frame).slice(0, 200)}`);
  }
  const nicks = [frame.nick, frame.new, frame.from].filter((n): n is string => typeof n === "string");
  for (const nick of nicks) {
    if (nick !== victim && nickKey(nick) === nickKey(victim) && frame.type !== "error") {
      problems.push(`a look-alike of ${victim} got through: ${JSON.stringify(frame).slice(0, 200)}`);
    }
  }
  return problems;
}

/** What is wrong in the text a text-dialect connection received: bidi controls or separators, raw. */
export function textOutputProblems(text: string): string[] {
  const match = NOT_INERT.exec(text);
  if (!match) return [];
  const at = match.index;
  return [`a text user received U+${match[0].codePointAt(0)!.toString(16).toUpperCase()} raw: ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 20))}`];
}

/**
 * Log lines about one connection and error code in `stderr` (JSON logs),
 * past the collapsing rule: more than one per second of `seconds`, plus one.
 */
export function logFloodProblems(stderr: string, seconds: number): string[] {
  const counts = new Map<string, number>();
  for (const raw of stderr.split("\n")) {
    if (!raw.startsWith("{")) continue;
    let record: { logger?: string; properties?: { conn?: unknown; code?: unknown } };
    try {
      record = JSON.parse(raw);
    } catch {
      continue;
    }
    if (record.logger !== "tcpchat.errors" || record.properties?.conn == null) continue;
    const key = `conn ${record.properties.conn} ${record.properties.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const limit = Math.ceil(seconds) + 1;
  return [...counts].filter(([, n]) => n > limit).map(([key, n]) => `log flood: ${n} lines for ${key} in ${seconds.toFixed(1)} s`);
}
