/**
 * MODE, KICK, INVITE, KILL, OPER. tcpchat has no channel operators, bans,
 * keys or server operators yet, so these answer what is true today: a
 * channel's modes are `+n` (only members may send), its ban list is empty,
 * and changes are refused with ERR_CHANOPRIVSNEEDED / ERR_NOPRIVILEGES. The
 * user mode `i` is accepted for clients that set it (every user is already
 * invisible to those who do not know the nick: there is no user list).
 *
 * @module
 */
import { nickKey } from "../../../protocol/names.ts";
import { roomToChannel } from "../channels.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import { userSource } from "../render.ts";
import type { IrcSession } from "../session.ts";
import { roomFor } from "./channels.ts";

const USER_MODES = "i";

/** MODE #chan [modes] or MODE nick [modes]. */
export function mode(s: IrcSession, m: IrcMessage): void {
  const [target, modes] = m.params;
  if (target.startsWith("#") || target.startsWith("&")) return channelMode(s, target, modes);
  const self = s.host.session.nick!;
  if (nickKey(target) !== nickKey(self)) {
    if (s.host.lookup.sessionByNick(target)) return s.reply(N.ERR_USERSDONTMATCH, "Can't change mode for other users");
    return s.reply(N.ERR_NOSUCHNICK, target, "No such nick/channel");
  }
  if (modes === undefined) return s.reply(N.RPL_UMODEIS, `+${s.userModes}`);
  let adding = true;
  let unknown = false;
  let next = s.userModes;
  for (const letter of modes) {
    if (letter === "+" || letter === "-") adding = letter === "+";
    else if (!USER_MODES.includes(letter)) unknown = true;
    else if (adding && !next.includes(letter)) next += letter;
    else if (!adding) next = next.replace(letter, "");
  }
  if (unknown) s.reply(N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag");
  if (next === s.userModes) return;
  const change = diffModes(s.userModes, next);
  s.userModes = next;
  s.send({ source: userSource(self), command: "MODE", params: [self, change] });
}

function diffModes(before: string, after: string): string {
  const added = [...after].filter((c) => !before.includes(c)).join("");
  const removed = [...before].filter((c) => !after.includes(c)).join("");
  return (added ? `+${added}` : "") + (removed ? `-${removed}` : "");
}

function channelMode(s: IrcSession, channel: string, modes: string | undefined): void {
  const room = roomFor(s, channel);
  if (room === null) return;
  if (!s.host.lookup.hasRoom(room)) return s.reply(N.ERR_NOSUCHCHANNEL, channel, "No such channel");
  const name = roomToChannel(room);
  if (modes === undefined) return s.reply(N.RPL_CHANNELMODEIS, name, "+n");
  // A list query (`MODE #chan b`, as clients send on join) is answered: nobody is banned.
  if (/^\+?b$/.test(modes)) return s.reply(N.RPL_ENDOFBANLIST, name, "End of channel ban list");
  s.reply(N.ERR_CHANOPRIVSNEEDED, name, "You're not channel operator (this server has no channel operators yet)");
}

/** KICK #chan nick: nobody is a channel operator yet. */
export function kick(s: IrcSession, m: IrcMessage): void {
  const room = roomFor(s, m.params[0]);
  if (room === null) return;
  if (!s.joined.has(room)) return s.reply(N.ERR_NOTONCHANNEL, m.params[0], "You're not on that channel");
  s.reply(N.ERR_CHANOPRIVSNEEDED, roomToChannel(room), "You're not channel operator (this server has no channel operators yet)");
}

/** INVITE nick #chan: every channel is open to all, and there are no operators to invite. */
export function invite(s: IrcSession, m: IrcMessage): void {
  const [nick, channel] = m.params;
  if (!s.host.lookup.sessionByNick(nick)) return s.reply(N.ERR_NOSUCHNICK, nick, "No such nick/channel");
  const room = roomFor(s, channel);
  if (room === null) return;
  if (!s.joined.has(room)) return s.reply(N.ERR_NOTONCHANNEL, channel, "You're not on that channel");
  s.reply(N.ERR_CHANOPRIVSNEEDED, roomToChannel(room), "Channels are open to everyone; tell them to JOIN");
}

/** KILL nick :reason: there are no server operators yet. */
export function kill(s: IrcSession): void {
  s.reply(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
}

/** OPER name password: there are no operator credentials yet. */
export function oper(s: IrcSession): void {
  s.reply(N.ERR_NOOPERHOST, "No O-lines for your host");
}
