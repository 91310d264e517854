/**
 * The command table (ergo's `commands.go`): each IRC command with how many
 * parameters it needs, whether it may come before registration, and its
 * handler. A command not in the table is ERR_UNKNOWNCOMMAND.
 *
 * @module
 */
import type { IrcMessage } from "./message.ts";
import type { IrcSession } from "./session.ts";
import * as accounts from "./handlers/accounts.ts";
import * as channels from "./handlers/channels.ts";
import * as history from "./handlers/history.ts";
import * as messages from "./handlers/messages.ts";
import * as moderation from "./handlers/moderation.ts";
import * as queries from "./handlers/queries.ts";
import * as registration from "./handlers/registration.ts";

/** One row of the table. */
export interface IrcCommand {
  /** Fewer parameters get ERR_NEEDMOREPARAMS. */
  minParams: number;
  /** Whether it may come before registration (else ERR_NOTREGISTERED). */
  beforeRegistration?: boolean;
  run(s: IrcSession, m: IrcMessage): void;
}

/** Every command this server knows. */
export const COMMANDS: Record<string, IrcCommand> = {
  CAP: { minParams: 1, beforeRegistration: true, run: registration.cap },
  NICK: { minParams: 0, beforeRegistration: true, run: registration.nick },
  USER: { minParams: 4, beforeRegistration: true, run: registration.user },
  PASS: { minParams: 1, beforeRegistration: true, run: registration.pass },
  PING: { minParams: 1, beforeRegistration: true, run: registration.ping },
  PONG: { minParams: 0, beforeRegistration: true, run: registration.pong },
  QUIT: { minParams: 0, beforeRegistration: true, run: registration.quit },
  JOIN: { minParams: 1, run: channels.join },
  PART: { minParams: 1, run: channels.part },
  NAMES: { minParams: 0, run: channels.names },
  LIST: { minParams: 0, run: channels.list },
  TOPIC: { minParams: 1, run: channels.topic },
  PRIVMSG: { minParams: 0, run: messages.privmsg },
  NOTICE: { minParams: 0, run: messages.notice },
  TAGMSG: { minParams: 1, run: messages.tagmsg },
  WHO: { minParams: 0, run: queries.who },
  WHOIS: { minParams: 1, run: queries.whois },
  AWAY: { minParams: 0, run: queries.away },
  ISON: { minParams: 1, run: queries.ison },
  USERHOST: { minParams: 1, run: queries.userhost },
  MOTD: { minParams: 0, run: queries.motd },
  LUSERS: { minParams: 0, run: queries.lusers },
  MODE: { minParams: 1, run: moderation.mode },
  KICK: { minParams: 2, run: moderation.kick },
  INVITE: { minParams: 2, run: moderation.invite },
  KILL: { minParams: 2, run: moderation.kill },
  OPER: { minParams: 2, run: accounts.oper },
  AUTHENTICATE: { minParams: 1, beforeRegistration: true, run: accounts.authenticate },
  REGISTER: { minParams: 3, beforeRegistration: true, run: accounts.register },
  NICKSERV: { minParams: 0, run: accounts.nickservAlias },
  NS: { minParams: 0, run: accounts.nickservAlias },
  CHATHISTORY: { minParams: 0, run: history.chathistory }, // Its own FAIL NEED_MORE_PARAMS, as the spec asks.
};
