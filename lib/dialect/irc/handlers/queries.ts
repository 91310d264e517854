/**
 * Questions about people and the server: WHO, WHOIS, AWAY, ISON, USERHOST,
 * MOTD, LUSERS.
 *
 * @module
 */
import { channelToRoom, roomToChannel } from "../channels.ts";
import { lusersLines, whoLine } from "../answers.ts";
import { AWAY_LENGTH } from "../isupport.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import { USER_HOST } from "../render.ts";
import { isServerOperator } from "../operators.ts";
import type { IrcSession } from "../session.ts";

/** WHO #chan (through the hub's `who`) or WHO nick; other masks match nobody. */
export function who(s: IrcSession, m: IrcMessage): void {
  const mask = m.params[0] ?? "*";
  if (mask.startsWith("#")) {
    const lookup = channelToRoom(mask);
    if ("room" in lookup) return s.submit({ type: "who", room: lookup.room }, mask);
  } else {
    const user = s.host.lookup.sessionByNick(mask);
    if (user?.nick) s.send(whoLine(s, "*", user.nick, user.status === "away"));
  }
  s.reply(N.RPL_ENDOFWHO, mask, "End of WHO list");
}

/** WHOIS [server] nick. */
export function whois(s: IrcSession, m: IrcMessage): void {
  const nick = m.params[m.params.length > 1 ? 1 : 0];
  const user = s.host.lookup.sessionByNick(nick);
  if (!user?.nick) {
    s.reply(N.ERR_NOSUCHNICK, nick, "No such nick/channel");
    return s.reply(N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list");
  }
  const name = user.nick;
  s.reply(N.RPL_WHOISUSER, name, name, USER_HOST, "*", name);
  const channels = [...user.rooms].map((room) => roomToChannel(room.name));
  if (channels.length > 0) s.reply(N.RPL_WHOISCHANNELS, name, channels.join(" "));
  s.reply(N.RPL_WHOISSERVER, name, s.serverName, "tcpchat");
  if (isServerOperator(s, user)) s.reply(N.RPL_WHOISOPERATOR, name, "is an IRC operator");
  if (user.account !== null) s.reply(N.RPL_WHOISACCOUNT, name, user.account.name, "is logged in as");
  if (user.status === "away") s.reply(N.RPL_AWAY, name, user.note || "Away");
  s.reply(N.RPL_ENDOFWHOIS, name, "End of /WHOIS list");
}

/** AWAY :note marks away (the note cut to AWAYLEN); AWAY alone comes back. */
export function away(s: IrcSession, m: IrcMessage): void {
  const note = m.params[0] ? [...m.params[0]].slice(0, AWAY_LENGTH).join("") : "";
  s.submit(note ? { type: "status", status: "away", note } : { type: "status", status: "online" });
}

/** ISON nick...: which of them are here, as they spell their nicks. */
export function ison(s: IrcSession, m: IrcMessage): void {
  const here = m.params.flatMap((p) => p.split(" ")).filter((n) => n !== "")
    .map((n) => s.host.lookup.sessionByNick(n)?.nick).filter((n): n is string => !!n);
  s.reply(N.RPL_ISON, here.join(" "));
}

/** USERHOST nick... (up to 5): `nick=+user@host`, `-` when away. */
export function userhost(s: IrcSession, m: IrcMessage): void {
  const replies = m.params.slice(0, 5).map((n) => s.host.lookup.sessionByNick(n)).filter((u) => u?.nick)
    .map((u) => `${u!.nick}=${u!.status === "away" ? "-" : "+"}${u!.nick}@${USER_HOST}`);
  s.reply(N.RPL_USERHOST, replies.join(" "));
}

/** MOTD: there is none. */
export function motd(s: IrcSession): void {
  s.reply(N.ERR_NOMOTD, "MOTD File is missing");
}

/** LUSERS: counts of users, channels and connections. */
export function lusers(s: IrcSession): void {
  for (const line of lusersLines(s)) s.send(line);
}
