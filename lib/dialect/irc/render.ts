/**
 * Hub events as IRC lines: a room `msg` becomes PRIVMSG to the channel, a
 * `dm` PRIVMSG to the nick, `join`/`leave`/`nick` JOIN/PART/NICK, `presence`
 * AWAY (with away-notify) or QUIT. What a line looks like depends only on
 * the recipient's capabilities and on whether the event is about the
 * recipient, so a broadcast renders once per such variant (see
 * {@linkcode variantKey}), not once per member.
 *
 * @module
 */
import type { LeaveReason, MsgFrame, ServerFrame } from "../../protocol/server_frames.ts";
import { hasCap } from "./caps.ts";
import { ircMask } from "./channel_modes.ts";
import { roomToChannel } from "./channels.ts";
import { type IrcMessage, MAX_LINE_BYTES, splitUtf8, utf8Length } from "./message.ts";
import { msgidOf } from "./msgref.ts";

/** Host part of every user's `nick!user@host`: tcpchat does not show addresses. */
export const USER_HOST = "tcpchat";

/** What rendering needs to know about the recipient. */
export interface IrcView {
  /** The recipient's nick (null before registration). */
  nick: string | null;
  /** Its capability bits. */
  caps: number;
  /** The server's name, the source of server lines. */
  serverName: string;
  /** The account a connected nick is logged in to (account-tag, extended-join). */
  accountOf?: (nick: string) => string | undefined;
}

/** `nick!nick@tcpchat`: the source of a user's lines. */
export function userSource(nick: string): string {
  return `${nick}!${nick}@${USER_HOST}`;
}

/** The key under which a broadcast's rendering can be shared: capabilities plus "about me". */
export function variantKey(frame: ServerFrame, nick: string | null, caps: number): number {
  return caps * 2 + (aboutSelf(frame, nick) ? 1 : 0);
}

function aboutSelf(frame: ServerFrame, nick: string | null): boolean {
  switch (frame.type) {
    case "join":
    case "leave":
    case "presence":
      return frame.nick === nick;
    case "nick":
      return frame.old === nick;
    case "msg":
      return frame.from === nick;
    default:
      return false;
  }
}

/** Text that the other dialects write as `/me ACTION` (the text dialect's convention). */
const ME = "/me ";
/** CTCP delimiter. */
const CTCP = "\x01";

/**
 * Renders an event frame (join, leave, nick, msg, dm, presence, ping, bye)
 * for one recipient; answers to the recipient's own commands (welcome, room,
 * who, error, ...) are rendered by the session, which knows the command.
 * Returns [] when the recipient should see nothing.
 */
export function renderEvent(frame: ServerFrame, view: IrcView, notice = false): IrcMessage[] {
  switch (frame.type) {
    case "join":
      // The joiner's own JOIN is rendered from its `room` snapshot, together with NAMES.
      if (frame.nick === view.nick) return [];
      return [{
        source: userSource(frame.nick),
        command: "JOIN",
        params: hasCap(view.caps, "extended-join")
          ? [roomToChannel(frame.room), view.accountOf?.(frame.nick) ?? "*", frame.nick]
          : [roomToChannel(frame.room)],
      }];
    case "leave":
      // An operator removed someone: KICK, which the target's client also takes as its own leaving.
      if (frame.reason === "kicked" || frame.reason === "banned") {
        return [{
          source: userSource(frame.by ?? frame.nick),
          command: "KICK",
          params: [roomToChannel(frame.room), frame.nick, frame.note || (frame.reason === "banned" ? "Banned" : "Kicked")],
        }];
      }
      // Others' disconnects are one QUIT, from the `presence` offline that follows.
      if (frame.reason !== "left") return [];
      return [{ source: userSource(frame.nick), command: "PART", params: [roomToChannel(frame.room)] }];
    case "nick":
      if (frame.old === frame.new && frame.old !== view.nick) return [];
      return [{ source: userSource(frame.old), command: "NICK", params: [frame.new] }];
    case "msg":
      // The sender's copy (with id) is its echo; anyone else's is a message.
      if (frame.from === view.nick && frame.id !== undefined && !hasCap(view.caps, "echo-message")) return [];
      return textLines(frame.from, roomToChannel(frame.room), frame.text, notice, accountTag(messageTags(frame, view.caps), frame.from, view));
    case "dm": {
      const echo = frame.from === view.nick && frame.id !== undefined;
      if (echo && frame.to !== view.nick && !hasCap(view.caps, "echo-message")) return [];
      return textLines(frame.from, frame.to, frame.text, notice, accountTag(timeTag(frame.ts, view.caps), frame.from, view));
    }
    case "presence":
      if (frame.status === "offline") {
        return [{ source: userSource(frame.nick), command: "QUIT", params: [quitText(frame.reason ?? "disconnect")] }];
      }
      if (frame.nick === view.nick || !hasCap(view.caps, "away-notify")) return [];
      return [{
        source: userSource(frame.nick),
        command: "AWAY",
        params: frame.status === "away" ? [frame.note || "Away"] : [],
      }];
    case "invite":
      return [{ source: userSource(frame.from), command: "INVITE", params: [view.nick ?? "*", roomToChannel(frame.room)] }];
    case "topic":
      return [{ source: userSource(frame.by), command: "TOPIC", params: [roomToChannel(frame.room), frame.topic] }];
    case "role":
      return [{ source: userSource(frame.by), command: "MODE", params: [roomToChannel(frame.room), frame.op ? "+o" : "-o", frame.nick] }];
    case "ban":
      // Told to the operators present only (the hub's rule); members see the KICK of a banned member.
      return [{
        source: userSource(frame.by),
        command: "MODE",
        params: [roomToChannel(frame.room), frame.removed ? "-b" : "+b", ircMask(frame.mask)],
      }];
    case "ping":
      return [{ command: "PING", params: [String(frame.t ?? view.serverName)] }];
    case "bye":
      return [{ command: "ERROR", params: [`Closing Link: ${quitText(frame.reason)}`] }];
    case "crowd":
      // A crowded channel's joins and parts, summarised (PROTOCOL section 15): one server NOTICE.
      return [{
        source: view.serverName,
        command: "NOTICE",
        params: [roomToChannel(frame.room), `${frame.joined} joined, ${frame.left} left; ${frame.member_count} members now`],
      }];
    default:
      return [];
  }
}

/** Words for why someone went, as IRC clients show in a QUIT. */
export function quitText(reason: LeaveReason): string {
  switch (reason) {
    case "quit":
    case "left":
      return "Quit";
    case "timeout":
      return "Ping timeout";
    case "slow_consumer":
      return "Slow consumer (send queue exceeded)";
    case "flood":
      return "Excess flood";
    case "shutdown":
      return "Server shutting down";
    case "disconnect":
      return "Connection closed";
    case "killed":
      return "Killed";
    case "kicked":
    case "banned":
      return "Removed by an operator";
  }
}

/** The tags of a room message for a recipient with `caps`: `time` (server-time) and `msgid` (message-tags). */
export function messageTags(msg: MsgFrame, caps: number): Record<string, string> | undefined {
  const tags = timeTag(msg.ts, caps);
  if (!hasCap(caps, "message-tags")) return tags;
  // Room, seq and send time: see msgref.ts (CHATHISTORY reads it back).
  return { ...tags, msgid: msgidOf(msg) };
}

/** `tags` plus `account` (account-tag) when the sender `from` is logged in. */
function accountTag(tags: Record<string, string> | undefined, from: string, view: IrcView): Record<string, string> | undefined {
  if (!hasCap(view.caps, "account-tag")) return tags;
  const account = view.accountOf?.(from);
  return account === undefined ? tags : { ...tags, account };
}

function timeTag(ts: number, caps: number): Record<string, string> | undefined {
  return hasCap(caps, "server-time") ? { time: new Date(ts).toISOString() } : undefined;
}

/**
 * A message's text as PRIVMSG (or NOTICE) lines: one per line of the text
 * (JSON users may send newlines), each cut to fit 512 bytes; `/me ` text as
 * CTCP ACTION. NUL and CR cannot be sent on IRC and are dropped.
 */
export function textLines(
  from: string,
  target: string,
  text: string,
  notice: boolean,
  tags: Record<string, string> | undefined,
): IrcMessage[] {
  const source = userSource(from);
  const command = notice ? "NOTICE" : "PRIVMSG";
  const action = text.startsWith(ME);
  const body = (action ? text.slice(ME.length) : text).replace(/[\0\r]/g, "");
  // `:source COMMAND target :` plus, for an action, the two delimiters and "ACTION ".
  const overhead = utf8Length(source) + utf8Length(target) + command.length + 5 + (action ? 9 : 0);
  const budget = Math.max(32, MAX_LINE_BYTES - overhead);
  const out: IrcMessage[] = [];
  for (const line of body.split("\n")) {
    if (line === "" && !action) continue;
    for (const piece of splitUtf8(line, budget)) {
      const param = action ? `${CTCP}ACTION ${piece}${CTCP}` : piece;
      out.push(tags ? { tags, source, command, params: [target, param] } : { source, command, params: [target, param] });
    }
  }
  return out;
}
