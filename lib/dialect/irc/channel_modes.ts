/**
 * Channel modes between IRC and the hub (PROTOCOL section 9): `+i` is
 * `invite_only`, `+k KEY` `key`, `+t` `topic_lock`, `+o NICK` the hub's
 * `op`/`deop`, `+b MASK` its `ban`/`unban`; `+n` always holds (only members
 * send). Pure functions: parsing a MODE line into hub frames, masks both
 * ways, and the modes a `mode` event changed.
 *
 * Masks: the hub bans `nick:NAME` or `account:NAME`. IRC shows them as
 * `NAME!*@*` and `$a:NAME` (the charybdis/solanum account extban, advertised
 * as `EXTBAN=$,a`); both forms, and the hub's own, are accepted as input.
 * Other masks (wildcards in the nick, a host) match nobody the hub can
 * name: they are refused with ERR_INVALIDMODEPARAM.
 *
 * @module
 */
import { nickProblem } from "../../protocol/names.ts";
import type { ModesView } from "../../protocol/server_frames.ts";

/** The channel modes: type A (lists) `b`, type B (always a parameter) `k`, type D (flags) `i n t`. */
export const CHANMODES = "b,k,,int";
/** Every channel mode letter, for RPL_MYINFO; and those taking a parameter. */
export const CHANNEL_MODE_LETTERS = "biknot";
export const CHANNEL_MODES_WITH_PARAM = "bko";
/** The key shown to IRC users: the contract never sends a room's key (PROTOCOL section 9). */
export const HIDDEN_KEY = "*";

/** One change a MODE line asks for. */
export type ModeChange =
  | { kind: "flags"; invite_only?: boolean; topic_lock?: boolean; key?: string }
  | { kind: "op"; on: boolean; nick: string }
  | { kind: "ban"; on: boolean; mask: string }
  | { kind: "list" }
  | { kind: "unknown"; letter: string }
  | { kind: "bad_param"; letter: string; param: string; reason: string }
  | { kind: "need_param"; letter: string };

/**
 * The changes in `MODE #chan modestring args...`, in order, flag changes
 * (i, k, t) gathered into one (one hub `mode` frame). `n` is accepted and
 * changes nothing; `-n` cannot be had and is ignored.
 */
export function parseModeChanges(modestring: string, args: string[]): ModeChange[] {
  const out: ModeChange[] = [];
  const flags: Extract<ModeChange, { kind: "flags" }> = { kind: "flags" };
  let on = true;
  let next = 0;
  const param = () => args[next++];
  for (const letter of modestring) {
    if (letter === "+" || letter === "-") {
      on = letter === "+";
      continue;
    }
    switch (letter) {
      case "i":
        flags.invite_only = on;
        break;
      case "t":
        flags.topic_lock = on;
        break;
      case "n":
        break;
      case "k": {
        const key = param(); // `-k` takes the key too (type B), and ignores it.
        if (on && (key === undefined || key === "")) out.push({ kind: "need_param", letter });
        else flags.key = on ? key : "";
        break;
      }
      case "o": {
        const nick = param();
        if (nick === undefined) out.push({ kind: "need_param", letter });
        else out.push({ kind: "op", on, nick });
        break;
      }
      case "b": {
        const mask = param();
        if (mask === undefined) out.push({ kind: "list" });
        else {
          const hub = hubMask(mask);
          out.push(typeof hub === "string" ? { kind: "ban", on, mask: hub } : { kind: "bad_param", letter, param: mask, reason: hub.problem });
        }
        break;
      }
      default:
        out.push({ kind: "unknown", letter });
    }
  }
  if (flags.invite_only !== undefined || flags.topic_lock !== undefined || flags.key !== undefined) out.unshift(flags);
  return out;
}

/**
 * The hub mask for an IRC ban mask: `nick!*@*`, `nick!*@tcpchat`, `nick` or
 * `nick:NAME` is `nick:NAME`; `$a:NAME` or `account:NAME` is `account:NAME`.
 */
export function hubMask(mask: string): string | { problem: string } {
  let kind = "nick";
  let name = mask;
  const lower = mask.toLowerCase();
  if (lower.startsWith("$a:")) [kind, name] = ["account", mask.slice(3)];
  else if (lower.startsWith("account:")) [kind, name] = ["account", mask.slice(8)];
  else if (lower.startsWith("nick:")) name = mask.slice(5);
  else {
    const bang = mask.indexOf("!");
    if (bang >= 0) {
      const rest = mask.slice(bang + 1);
      if (rest !== "*@*" && rest !== "*@tcpchat" && !/^[^@]*@tcpchat$/i.test(rest) && rest !== "*") {
        return { problem: "tcpchat shows no hosts: ban nick!*@* or $a:account" };
      }
      name = mask.slice(0, bang);
    } else if (mask.includes("@")) {
      return { problem: "tcpchat shows no hosts: ban nick!*@* or $a:account" };
    }
  }
  if (/[*?]/.test(name)) return { problem: "tcpchat bans one nick or account, not a pattern: ban nick!*@* or $a:account" };
  if (nickProblem(name) !== undefined) return { problem: "not a nick or account name" };
  return `${kind}:${name}`;
}

/** How IRC shows a hub mask: `nick:bob` as `bob!*@*`, `account:bob` as `$a:bob`. */
export function ircMask(mask: string): string {
  const colon = mask.indexOf(":");
  const name = mask.slice(colon + 1);
  return mask.startsWith("account:") ? `$a:${name}` : `${name}!*@*`;
}

/** RPL_CHANNELMODEIS parameters: `+nt` and so on, then the (hidden) key. */
export function modeIsParams(modes: ModesView): string[] {
  const letters = `+${modes.invite_only ? "i" : ""}${modes.key ? "k" : ""}n${modes.topic_lock ? "t" : ""}`;
  return modes.key ? [letters, HIDDEN_KEY] : [letters];
}

/**
 * A `mode` event as a MODE modestring and its parameters: what changed from
 * `before` (every set mode when unknown). `key` is the key to show for `+k`
 * (the setter's own; others see {@linkcode HIDDEN_KEY}). Empty when nothing
 * changed.
 */
export function modeDiff(before: ModesView | undefined, after: ModesView, key = HIDDEN_KEY): string[] {
  let plus = "";
  let minus = "";
  const params: string[] = [];
  const flag = (letter: string, was: boolean | undefined, now: boolean) => {
    if (was === now) return;
    if (now) plus += letter;
    else if (was !== undefined) minus += letter;
  };
  flag("i", before?.invite_only, after.invite_only);
  flag("t", before?.topic_lock, after.topic_lock);
  // A key set again (changed) shows as +k: the view cannot tell, so a set key with a key given by the setter shows.
  if (after.key && (before?.key !== true || key !== HIDDEN_KEY)) {
    plus += "k";
    params.push(key);
  } else if (!after.key && before?.key === true) {
    minus += "k";
    params.push(HIDDEN_KEY);
  }
  const modestring = (plus ? `+${plus}` : "") + (minus ? `-${minus}` : "");
  return modestring ? [modestring, ...params] : [];
}
