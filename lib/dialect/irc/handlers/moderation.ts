/**
 * MODE, KICK, INVITE, KILL. KICK, INVITE and KILL go to the hub's
 * moderation frames (its refusals become 482/481/401). Channel MODE is
 * mapped onto the hub's `mode`, `op`/`deop`, `ban`/`unban` and `bans`
 * frames (channel_modes.ts); the hub checks who may. The user mode `i` is
 * accepted for clients that set it (every user is already invisible to
 * those who do not know the nick: there is no user list); `o` shows a
 * server operator (OPER).
 *
 * @module
 */
import { nickKey } from "../../../protocol/names.ts";
import { maskKey } from "../../../hub/room_modes.ts";
import { modeIsParams, parseModeChanges } from "../channel_modes.ts";
import { roomToChannel } from "../channels.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import { userSource } from "../render.ts";
import { isChannelOperator, isServerOperator } from "../operators.ts";
import type { IrcSession } from "../session.ts";
import { roomFor } from "./channels.ts";

const USER_MODES = "i";

/** MODE #chan [modes] or MODE nick [modes]. */
export function mode(s: IrcSession, m: IrcMessage): void {
  const [target, modes] = m.params;
  if (target.startsWith("#") || target.startsWith("&")) return channelMode(s, target, modes, m.params.slice(2));
  const self = s.host.session.nick!;
  if (nickKey(target) !== nickKey(self)) {
    if (s.host.lookup.sessionByNick(target)) return s.reply(N.ERR_USERSDONTMATCH, "Can't change mode for other users");
    return s.reply(N.ERR_NOSUCHNICK, target, "No such nick/channel");
  }
  if (isServerOperator(s, s.host.session) && !s.userModes.includes("o")) s.userModes += "o";
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

function channelMode(s: IrcSession, channel: string, modes: string | undefined, args: string[]): void {
  const room = roomFor(s, channel);
  if (room === null) return;
  const kept = s.host.lookup.room(room);
  if (!kept) return s.reply(N.ERR_NOSUCHCHANNEL, channel, "No such channel");
  const name = roomToChannel(room);
  if (modes === undefined) return s.reply(N.RPL_CHANNELMODEIS, name, ...modeIsParams(kept.moderation.view()));
  for (const change of parseModeChanges(modes, args)) {
    switch (change.kind) {
      case "flags": {
        const { kind: _, ...fields } = change;
        // The hub answers a `mode` frame at once (unless a password check holds the session's frames): the echo
        // is rendered inside submit, so the key is forgotten right after, refused or not.
        if (fields.key) s.pendingKey = fields.key;
        s.submit({ type: "mode", room, ...fields }, name);
        s.pendingKey = null;
        break;
      }
      case "op":
        s.submit({ type: change.on ? "op" : "deop", room, nick: change.nick }, name);
        break;
      case "ban":
        ban(s, room, change.on, change.mask);
        break;
      case "list":
        // Clients ask on join; the list is for operators (the hub's rule), so others get its end, not an error.
        if (!isChannelOperator(s, room, s.host.session)) s.reply(N.RPL_ENDOFBANLIST, name, "End of channel ban list (operators see the bans)");
        else s.submit({ type: "bans", room }, name);
        break;
      case "need_param":
        s.reply(N.ERR_NEEDMOREPARAMS, "MODE", `Not enough parameters (+${change.letter} needs one)`);
        break;
      case "bad_param":
        s.reply(N.ERR_INVALIDMODEPARAM, name, change.letter, change.param, change.reason);
        break;
      case "unknown":
        s.reply(N.ERR_UNKNOWNMODE, change.letter, "is an unknown mode char to me");
        break;
    }
  }
}

/**
 * +b and -b. The hub bans a connected user (by account when logged in, else
 * by nick), so `+b` names the user the mask names; `-b` removes the hub mask,
 * or the account ban of that name when there is no nick ban (a `nick!*@*` ban
 * of a logged-in user became an account ban).
 */
function ban(s: IrcSession, room: string, on: boolean, mask: string): void {
  const name = roomToChannel(room);
  const colon = mask.indexOf(":");
  const who = mask.slice(colon + 1);
  if (on) {
    const target = s.host.lookup.sessionByNick(who);
    const byAccount = mask.startsWith("account:");
    if (!target?.nick || (byAccount && target.account?.key !== nickKey(who))) {
      return s.reply(N.ERR_NOSUCHNICK, who, "No such nick/channel (tcpchat bans a connected user; its account when logged in)");
    }
    return s.submit({ type: "ban", room, nick: target.nick }, name);
  }
  const bans = s.host.lookup.room(room)?.moderation.bans;
  const asAccount = `account:${who}`;
  const unmask = mask.startsWith("nick:") && bans && !bans.has(maskKey(mask)) && bans.has(maskKey(asAccount)) ? asAccount : mask;
  s.submit({ type: "unban", room, mask: unmask }, name);
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
