/**
 * MODE, KICK, INVITE, KILL, OPER. KICK, INVITE and KILL go to the hub's
 * moderation frames (its refusals become 482/481/401). Channel MODE is not
 * mapped yet: it shows `+n`, an empty ban list, and refuses changes with
 * ERR_CHANOPRIVSNEEDED (modes are set from the other dialects). The user
 * mode `i` is accepted for clients that set it (every user is already
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

/** KICK #chan nick [:reason]: the hub's `kick` (its answer is the KICK line; refusals are numerics). */
export function kick(s: IrcSession, m: IrcMessage): void {
  const room = roomFor(s, m.params[0]);
  if (room === null) return;
  const [, nick, reason] = m.params;
  s.submit(reason ? { type: "kick", room, nick, reason: [...reason].slice(0, 200).join("") } : { type: "kick", room, nick }, m.params[0]);
}

/** INVITE nick #chan: the hub's `invite` (RPL_INVITING to the inviter, an INVITE line to the target). */
export function invite(s: IrcSession, m: IrcMessage): void {
  const [nick, channel] = m.params;
  const room = roomFor(s, channel);
  if (room === null) return;
  s.pendingInvitee = nick;
  s.submit({ type: "invite", room, nick }, channel);
}

/** KILL nick :reason: the hub's `kill` (server operators only: 481 for anyone else). */
export function kill(s: IrcSession, m: IrcMessage): void {
  const [nick, reason] = m.params;
  s.submit(reason ? { type: "kill", nick, reason: [...reason].slice(0, 200).join("") } : { type: "kill", nick }, nick);
}

/** OPER name password: there are no operator credentials yet. */
export function oper(s: IrcSession): void {
  s.reply(N.ERR_NOOPERHOST, "No O-lines for your host");
}
