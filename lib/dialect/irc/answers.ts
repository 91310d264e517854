/**
 * Answers to an IRC client's own commands, rendered from the hub's answer
 * frames: `welcome` becomes 001-005 with LUSERS and MOTD, a `room` snapshot
 * the client's JOIN with NAMES, `who` a WHO or NAMES reply (whichever the
 * command was), `rooms` a LIST, `presence` 305/306, and `error` the numeric
 * the command calls for.
 *
 * @module
 */
import type { ErrorFrame, ServerFrame, WhoEntry } from "../../protocol/server_frames.ts";
import { renderAccountAnswer } from "./account_answers.ts";
import { CHANNEL_MODE_LETTERS, CHANNEL_MODES_WITH_PARAM, HIDDEN_KEY, ircMask, modeDiff } from "./channel_modes.ts";
import { roomToChannel } from "./channels.ts";
import { renderHistoryAnswer, renderHistoryError } from "./chathistory.ts";
import { isupportLines } from "./isupport.ts";
import { type IrcMessage, MAX_LINE_BYTES, utf8Length } from "./message.ts";
import { N } from "./numerics.ts";
import { USER_HOST, userSource } from "./render.ts";
import { isChannelOperatorNick, isServerOperator } from "./operators.ts";
import type { IrcSession } from "./session.ts";

/** When this process loaded the dialect: close enough to the server's start for RPL_CREATED. */
const STARTED = new Date();

/** Lines for an answer frame, or null when `frame` is an event for {@linkcode renderEvent}. */
export function renderAnswer(s: IrcSession, frame: ServerFrame): IrcMessage[] | null {
  const account = renderAccountAnswer(s, frame);
  if (account !== null) return account;
  switch (frame.type) {
    case "welcome":
      return welcomeLines(s, frame.nick);
    case "room": {
      if (s.joined.has(frame.room)) return []; // A JOIN of a channel one is in: nothing to show.
      s.joined.add(frame.room);
      if (frame.modes) s.channelModes.set(frame.room, frame.modes);
      const self = s.host.session.nick!;
      const channel = roomToChannel(frame.room);
      const join: IrcMessage = {
        source: userSource(self),
        command: "JOIN",
        params: s.has("extended-join") ? [channel, s.host.session.account?.name ?? "*", s.user?.realname ?? self] : [channel],
      };
      const members = frame.members.map((nick) => ({ nick, op: isChannelOperatorNick(s, frame.room, nick) }));
      const topic = frame.topic ? [s.numeric(N.RPL_TOPIC, channel, frame.topic)] : [];
      return [join, ...topic, ...namesLines(s, channel, members), ...unlisted(s, channel, frame.member_count, frame.members.length)];
    }
    case "left":
      s.joined.delete(frame.room);
      s.channelModes.delete(frame.room);
      return [{ source: userSource(s.host.session.nick!), command: "PART", params: [roomToChannel(frame.room)] }];
    case "who": {
      const channel = roomToChannel(frame.room);
      const lines = s.context?.command === "WHO"
        ? whoLines(s, channel, frame.users)
        : namesLines(s, channel, frame.users.map((u) => ({ nick: u.nick, op: u.op === true })));
      return [...lines, ...unlisted(s, channel, frame.member_count, frame.users.length)];
    }
    case "rooms": {
      const wanted = s.context?.target?.split(",").map((c) => c.toLowerCase());
      const rooms = wanted ? frame.rooms.filter((r) => wanted.includes(roomToChannel(r.name))) : frame.rooms;
      return [
        s.numeric(N.RPL_LISTSTART, "Channel", "Users  Name"),
        ...rooms.map((r) => s.numeric(N.RPL_LIST, roomToChannel(r.name), String(r.members), "")),
        s.numeric(N.RPL_LISTEND, "End of /LIST"),
      ];
    }
    case "presence":
      if (frame.id === undefined || frame.nick !== s.host.session.nick) return null;
      return frame.status === "away"
        ? [s.numeric(N.RPL_NOWAWAY, "You have been marked as being away")]
        : [s.numeric(N.RPL_UNAWAY, "You are no longer marked as being away")];
    case "pong":
      return []; // IRC PINGs are answered by the dialect itself.
    case "history":
      return renderHistoryAnswer(s, frame);
    case "invite":
      // The inviter's own copy; the invitee's is an event (an INVITE line).
      if (frame.id === undefined) return null;
      return [s.numeric(N.RPL_INVITING, s.pendingInvitee ?? "*", roomToChannel(frame.room))];
    case "mode":
      return modeLines(s, frame);
    case "bans": {
      const channel = roomToChannel(frame.room);
      return [
        ...frame.bans.map((b) => s.numeric(N.RPL_BANLIST, channel, ircMask(b.mask), b.by, String(Math.floor(b.ts / 1000)))),
        s.numeric(N.RPL_ENDOFBANLIST, channel, "End of channel ban list"),
      ];
    }
    case "error":
      return errorLines(s, frame);
    default:
      return null;
  }
}

/**
 * A crowded channel's NAMES or WHO lists only some members (the snapshot's
 * `snapshot_members`, or `who`'s first page): a server NOTICE says how many
 * there are, so nobody takes the list for the whole channel.
 */
function unlisted(s: IrcSession, channel: string, count: number, listed: number): IrcMessage[] {
  if (count <= listed) return [];
  return [{
    source: s.serverName,
    command: "NOTICE",
    params: [channel, `${channel} has ${count} members; ${listed} are listed, and joins and parts are summarised`],
  }];
}

/** 001-005, LUSERS and MOTD: what a client expects once registered. */
function welcomeLines(s: IrcSession, nick: string): IrcMessage[] {
  const name = s.serverName;
  const version = `tcpchat-${s.host.version}`;
  return [
    s.numeric(N.RPL_WELCOME, `Welcome to the ${name} IRC network ${nick}`),
    s.numeric(N.RPL_YOURHOST, `Your host is ${name}, running version ${version}`),
    s.numeric(N.RPL_CREATED, `This server was created ${STARTED.toUTCString()}`),
    s.numeric(N.RPL_MYINFO, name, version, "io", CHANNEL_MODE_LETTERS, CHANNEL_MODES_WITH_PARAM),
    ...isupportLines(s.host.settings).map((tokens) => s.numeric(N.RPL_ISUPPORT, ...tokens, "are supported by this server")),
    ...lusersLines(s),
    s.numeric(N.ERR_NOMOTD, "MOTD File is missing"),
  ];
}

/** LUSERS: users, channels and this server. */
export function lusersLines(s: IrcSession): IrcMessage[] {
  const { registered, rooms, sessions } = s.host.lookup.counts();
  return [
    s.numeric(N.RPL_LUSERCLIENT, `There are ${registered} users and 0 invisible on 1 servers`),
    s.numeric(N.RPL_LUSEROP, String(serverOperatorsOnline(s)), "operator(s) online"),
    s.numeric(N.RPL_LUSERCHANNELS, String(rooms), "channels formed"),
    s.numeric(N.RPL_LUSERME, `I have ${sessions} clients and 0 servers`),
    s.numeric(N.RPL_LOCALUSERS, String(registered), String(registered), `Current local users ${registered}`),
    s.numeric(N.RPL_GLOBALUSERS, String(registered), String(registered), `Current global users ${registered}`),
  ];
}

/** A `mode` event (or its setter's answer) as MODE with what changed for this client; nothing when nothing did. */
function modeLines(s: IrcSession, frame: Extract<ServerFrame, { type: "mode" }>): IrcMessage[] {
  const own = frame.id !== undefined && frame.by === s.host.session.nick;
  const params = modeDiff(s.channelModes.get(frame.room), frame.modes, own && s.pendingKey !== null ? s.pendingKey : HIDDEN_KEY);
  s.channelModes.set(frame.room, frame.modes);
  if (params.length === 0) return [];
  return [{ source: userSource(frame.by), command: "MODE", params: [roomToChannel(frame.room), ...params] }];
}

/** A member as NAMES lists it: `@` for operators (the only prefix, so multi-prefix shows the same). */
export interface NamesEntry {
  nick: string;
  op: boolean;
}

/**
 * Server operators online under their account's name (as the hub's snapshot
 * finds operators: without scanning every session; one logged in under
 * another nick is not counted).
 */
function serverOperatorsOnline(s: IrcSession): number {
  let count = 0;
  for (const name of s.host.settings.operators.split(",")) {
    const session = name.trim() === "" ? undefined : s.host.lookup.sessionByNick(name.trim());
    if (session && isServerOperator(s, session)) count++;
  }
  return count;
}

/** RPL_NAMREPLY lines, each within 512 bytes, then RPL_ENDOFNAMES. */
export function namesLines(s: IrcSession, channel: string, members: NamesEntry[]): IrcMessage[] {
  const out: IrcMessage[] = [];
  const head = utf8Length(`:${s.serverName} ${N.RPL_NAMREPLY} ${s.target} = ${channel} :`);
  let batch: string[] = [];
  let bytes = head;
  for (const { nick, op } of members) {
    const entry = (op ? "@" : "") + (s.has("userhost-in-names") ? userSource(nick) : nick);
    const size = utf8Length(entry) + 1;
    if (batch.length > 0 && bytes + size > MAX_LINE_BYTES) {
      out.push(s.numeric(N.RPL_NAMREPLY, "=", channel, batch.join(" ")));
      batch = [];
      bytes = head;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) out.push(s.numeric(N.RPL_NAMREPLY, "=", channel, batch.join(" ")));
  out.push(s.numeric(N.RPL_ENDOFNAMES, channel, "End of /NAMES list"));
  return out;
}

/** One RPL_WHOREPLY: H(ere) or G(one, away), `*` for a server operator, `@` for a channel operator. */
export function whoLine(s: IrcSession, channel: string, nick: string, away: boolean, flags = ""): IrcMessage {
  return s.numeric(N.RPL_WHOREPLY, channel, nick, USER_HOST, s.serverName, nick, (away ? "G" : "H") + flags, `0 ${nick}`);
}

function whoLines(s: IrcSession, channel: string, users: WhoEntry[]): IrcMessage[] {
  return [
    ...users.map((u) => whoLine(s, channel, u.nick, u.status === "away", u.op ? "@" : "")),
    s.numeric(N.RPL_ENDOFWHO, channel, "End of WHO list"),
  ];
}

/** The numeric for a hub error, by its code and the command that caused it. */
function errorLines(s: IrcSession, frame: ErrorFrame): IrcMessage[] {
  const context = s.context;
  const command = context?.command ?? "*";
  const target = context?.target ?? "*";
  if (command === "CHATHISTORY") return renderHistoryError(s, frame);
  switch (frame.code) {
    case "nick_taken":
      return [s.numeric(N.ERR_NICKNAMEINUSE, target, "Nickname is already in use")];
    case "nick_invalid":
      return [s.numeric(N.ERR_ERRONEUSNICKNAME, target, `Erroneous nickname: ${frame.message}`)];
    case "not_op":
      return command === "KILL"
        ? [s.numeric(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")]
        : [s.numeric(N.ERR_CHANOPRIVSNEEDED, target, `You're not channel operator (${frame.message})`)];
    case "banned":
      return [s.numeric(N.ERR_BANNEDFROMCHAN, target, "Cannot join channel (+b)")];
    case "invite_only":
      return [s.numeric(N.ERR_INVITEONLYCHAN, target, "Cannot join channel (+i)")];
    case "bad_key":
      return [s.numeric(N.ERR_BADCHANNELKEY, target, "Cannot join channel (+k)")];
    case "nick_reserved":
      return [s.numeric(N.ERR_NICKNAMEINUSE, target, "Nickname is a registered account: log in first (SASL, or PASS with its password before NICK)")];
    case "unauthorized":
      return [s.numeric(N.ERR_PASSWDMISMATCH, "Password incorrect")];
    case "not_in_room":
      if (command === "NOTICE") return [];
      return command === "PART"
        ? [s.numeric(N.ERR_NOTONCHANNEL, target, "You're not on that channel")]
        : [s.numeric(N.ERR_CANNOTSENDTOCHAN, target, "Cannot send to channel (join it first)")];
    case "no_such_room":
      // WHO and NAMES of an empty or unknown channel list nobody.
      if (command === "WHO") return [s.numeric(N.RPL_ENDOFWHO, target, "End of WHO list")];
      if (command === "NAMES") return [s.numeric(N.RPL_ENDOFNAMES, target, "End of /NAMES list")];
      return [s.numeric(N.ERR_NOSUCHCHANNEL, target, "No such channel")];
    case "no_such_user":
      return command === "NOTICE" ? [] : [s.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")];
    case "rate_limited":
      return [s.numeric(N.RPL_TRYAGAIN, command, `Please wait a while and try again (${frame.retry_after_ms} ms)`)];
    case "too_many_rooms":
      return [s.numeric(N.ERR_TOOMANYCHANNELS, target, "The server has no room for another channel")];
    case "not_registered":
      return [s.numeric(N.ERR_NOTREGISTERED, "You have not registered")];
    case "already_registered":
      return [s.numeric(N.ERR_ALREADYREGISTERED, "You may not reregister")];
    case "frame_too_large":
      return [s.numeric(N.ERR_INPUTTOOLONG, "Input line was too long")];
    case "bad_frame":
      // UTF8ONLY: a line that is not UTF-8 is refused with a standard reply.
      return [{ source: s.serverName, command: "FAIL", params: [command, "INVALID_UTF8", "Message rejected: your IRC software must send UTF-8"] }];
    default:
      return [{
        source: s.serverName,
        command: "NOTICE",
        params: [s.target, `${frame.code}: ${frame.message}${frame.trace ? ` (trace ${frame.trace})` : ""}`],
      }];
  }
}
