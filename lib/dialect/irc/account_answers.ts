/**
 * The hub's answers to the account commands IRC sends with their own frame
 * ids (handlers/accounts.ts): errors for SASL become ERR_SASLFAIL (904),
 * for OPER ERR_PASSWDMISMATCH (464), for NickServ a NOTICE from NickServ,
 * for REGISTER a FAIL REGISTER; a `register` success is told the same ways.
 *
 * @module
 */
import type { ServerFrame } from "../../protocol/server_frames.ts";
import type { IrcMessage } from "./message.ts";
import { N } from "./numerics.ts";
import type { IrcSession } from "./session.ts";

/** The frame ids account commands are sent with. */
export const ACCOUNT_IDS = { sasl: "irc-sasl", oper: "irc-oper", nickserv: "irc-nickserv", register: "irc-register" } as const;

/** The service user's nick. */
export const NICKSERV = "NickServ";
/** Its source: a nick no user can take (`.` is not allowed in nicks). */
const NICKSERV_SOURCE = "NickServ!NickServ@services.tcpchat";

/** NickServ HELP. */
export const NICKSERV_HELP = [
  "NickServ registers your nick as a tcpchat account and logs you in.",
  "REGISTER <password> [email]   make your current nick an account",
  "IDENTIFY [account] <password> log in (also: SASL PLAIN, or PASS before NICK)",
  "HELP                          this text",
];

/** A NOTICE from NickServ to this client. */
export function nickservNotice(s: IrcSession, text: string): IrcMessage {
  return { source: NICKSERV_SOURCE, command: "NOTICE", params: [s.target, text] };
}

/** Lines for an answer to an account command, or null when `frame` is not one. */
export function renderAccountAnswer(s: IrcSession, frame: ServerFrame): IrcMessage[] | null {
  const id = "id" in frame ? frame.id : undefined;
  if (id === undefined || !id.startsWith("irc-")) return null;
  if (frame.type === "error") {
    const why = frame.code === "rate_limited" ? `${frame.message}` : frame.message;
    switch (id) {
      case ACCOUNT_IDS.sasl:
        return [s.numeric(N.ERR_SASLFAIL, `SASL authentication failed: ${why}`)];
      case ACCOUNT_IDS.oper:
        return [s.numeric(N.ERR_PASSWDMISMATCH, `Password incorrect: ${why}`)];
      case ACCOUNT_IDS.nickserv:
        return [nickservNotice(s, `${frame.code}: ${why}`)];
      case ACCOUNT_IDS.register:
        return [{ source: s.serverName, command: "FAIL", params: ["REGISTER", registerFailCode(frame.code), s.target, why] }];
    }
    return null;
  }
  if (frame.type === "account" && frame.change === "registered") {
    if (id === ACCOUNT_IDS.nickserv) return [nickservNotice(s, `${frame.account} is now registered to you, and you are logged in`)];
    if (id === ACCOUNT_IDS.register) {
      return [
        { source: s.serverName, command: "REGISTER", params: ["SUCCESS", frame.account, "Account created"] },
        s.numeric(N.RPL_LOGGEDIN, `${s.target}!${s.target}@tcpchat`, frame.account, `You are now logged in as ${frame.account}`),
      ];
    }
  }
  return null;
}

/** draft/account-registration FAIL codes for hub error codes. */
function registerFailCode(code: string): string {
  switch (code) {
    case "account_exists":
      return "ACCOUNT_EXISTS";
    case "weak_password":
      return "WEAK_PASSWORD";
    case "registration_closed":
      return "DISABLED";
    case "rate_limited":
    case "unavailable":
      return "TEMPORARILY_UNAVAILABLE";
    default:
      return "UNKNOWN_ERROR";
  }
}
