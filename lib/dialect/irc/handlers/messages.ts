/**
 * PRIVMSG, NOTICE and TAGMSG. To a channel they are a room `msg`, to a nick a
 * `dm`. CTCP ACTION (`/me`) becomes text starting with `/me `, the way the
 * text dialect writes it; other CTCP requests are not delivered, since most
 * tcpchat users could never answer them.
 *
 * @module
 */
import { channelToRoom } from "../channels.ts";
import { MAX_MESSAGE_TARGETS } from "../isupport.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import type { IrcSession } from "../session.ts";
import { isNickServ, nickserv } from "./accounts.ts";
import { roomFor } from "./channels.ts";

/** PRIVMSG target[,target] :text */
export function privmsg(s: IrcSession, m: IrcMessage): void {
  deliver(s, m, false);
}

/** NOTICE target :text: like PRIVMSG, but never answered with an error about the target. */
export function notice(s: IrcSession, m: IrcMessage): void {
  deliver(s, m, true);
}

/** TAGMSG: accepted; tags alone are not relayed (the hub has no frame for them). */
export function tagmsg(): void {}

/**
 * The tcpchat text for an IRC message's text: `/me ACTION` for CTCP ACTION,
 * null for other CTCP (and an empty ACTION), the text itself otherwise.
 */
export function textFromIrc(text: string): string | null {
  if (!text.startsWith("\x01")) return text;
  const body = text.slice(1, text.endsWith("\x01") && text.length > 1 ? -1 : undefined);
  const space = body.indexOf(" ");
  const command = (space < 0 ? body : body.slice(0, space)).toUpperCase();
  const rest = space < 0 ? "" : body.slice(space + 1);
  if (command !== "ACTION" || rest.trim() === "") return null;
  return `/me ${rest}`;
}

function deliver(s: IrcSession, m: IrcMessage, isNotice: boolean): void {
  const [targets, raw] = m.params;
  if (!targets) return void (!isNotice && s.reply(N.ERR_NORECIPIENT, `No recipient given (${m.command})`));
  if (raw === undefined || raw === "") return void (!isNotice && s.reply(N.ERR_NOTEXTTOSEND, "No text to send"));
  const text = textFromIrc(raw);
  if (text === null) return;
  for (const target of targets.split(",").slice(0, MAX_MESSAGE_TARGETS)) {
    if (target === "") continue;
    if (target.startsWith("#") || target.startsWith("&")) {
      if (isNotice && !("room" in channelToRoom(target))) continue;
      const room = roomFor(s, target);
      if (room === null) continue;
      if (!s.host.lookup.hasRoom(room)) {
        if (!isNotice) s.reply(N.ERR_NOSUCHCHANNEL, target, "No such channel");
        continue;
      }
      s.submit({ type: "msg", room, text }, target);
      continue;
    }
    if (isNickServ(target)) {
      if (!isNotice) nickserv(s, text);
      continue;
    }
    s.submit({ type: "dm", to: target, text }, target);
    const to = s.host.lookup.sessionByNick(target);
    if (!isNotice && to?.status === "away" && to !== s.host.session) {
      s.reply(N.RPL_AWAY, to.nick!, to.note || "Away");
    }
  }
}
