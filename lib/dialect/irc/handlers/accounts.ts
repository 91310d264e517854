/**
 * Accounts from IRC: SASL PLAIN (AUTHENTICATE), the IRCv3
 * draft/account-registration REGISTER command, a `NickServ` service user
 * (REGISTER, IDENTIFY, HELP) and OPER. Every password goes to the hub's one
 * login path ({@linkcode IrcHost.login}: the same scrypt check and guessing
 * limit as `hello`) or its `register` frame; nothing here checks a password.
 *
 * Answers are told apart by the frame id they were sent with (see
 * account_answers.ts): hub errors for `sasl` become 904, for `oper` 464, for
 * `nickserv` a NOTICE from NickServ, for `register` a FAIL REGISTER.
 *
 * @module
 */
import { nickKey } from "../../../protocol/names.ts";
import { operatorKeys } from "../../../hub/room_modes.ts";
import { ACCOUNT_IDS, nickservNotice, NICKSERV_HELP } from "../account_answers.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import { userSource } from "../render.ts";
import { decodePlain, MAX_SASL_BYTES, SASL_CHUNK, SASL_MECHANISMS } from "../sasl.ts";
import type { IrcSession } from "../session.ts";

/** AUTHENTICATE PLAIN, then AUTHENTICATE <base64> (chunks), or AUTHENTICATE * to abort. */
export function authenticate(s: IrcSession, m: IrcMessage): void {
  const arg = m.params[0];
  if (!s.has("sasl")) return s.reply(N.ERR_SASLFAIL, "SASL authentication failed: request the sasl capability first");
  if (arg === "*") {
    if (s.sasl === null) return s.reply(N.ERR_SASLFAIL, "SASL authentication failed: no exchange to abort");
    s.sasl = null;
    return s.reply(N.ERR_SASLABORTED, "SASL authentication aborted");
  }
  if (s.host.session.account !== null) return s.reply(N.ERR_SASLALREADY, "You have already authenticated using SASL");
  if (s.sasl === null) {
    if (arg.toUpperCase() !== "PLAIN") {
      s.reply(N.RPL_SASLMECHS, SASL_MECHANISMS, "are available SASL mechanisms");
      return s.reply(N.ERR_SASLFAIL, "SASL authentication failed: unknown mechanism");
    }
    s.sasl = { data: "" };
    return s.send({ command: "AUTHENTICATE", params: ["+"] });
  }
  if (arg !== "+") s.sasl.data += arg;
  if (s.sasl.data.length > MAX_SASL_BYTES) {
    s.sasl = null;
    return s.reply(N.ERR_SASLTOOLONG, "SASL message too long");
  }
  if (arg.length === SASL_CHUNK) return; // More follows.
  const credentials = decodePlain(s.sasl.data);
  s.sasl = null;
  if ("problem" in credentials) return s.reply(N.ERR_SASLFAIL, `SASL authentication failed: ${credentials.problem}`);
  s.host.login(credentials.authcid, credentials.password, ACCOUNT_IDS.sasl, (account) => {
    const nick = s.host.session.nick ?? s.pendingNick ?? "*";
    s.send(s.numeric(N.RPL_LOGGEDIN, userSource(nick), account, `You are now logged in as ${account}`));
    s.send(s.numeric(N.RPL_SASLSUCCESS, "SASL authentication successful"));
  });
}

/** REGISTER <account> <email|*> <password> (draft/account-registration): the nick in use becomes an account. */
export function register(s: IrcSession, m: IrcMessage): void {
  const fail = (code: string, ...rest: string[]) => s.send({ source: s.serverName, command: "FAIL", params: ["REGISTER", code, ...rest] });
  if (!s.registered) return fail("COMPLETE_CONNECTION_REQUIRED", "*", "Register your nick first, then the account");
  const [account, email, password] = m.params;
  const nick = s.host.session.nick!;
  // The hub registers the session's own nick: another name would need a rename first.
  if (account !== "*" && nickKey(account) !== nickKey(nick)) {
    return fail("ACCOUNT_NAME_MUST_BE_NICK", account, `The account name must be your nick (${nick})`);
  }
  if (s.host.session.account !== null) return fail("ALREADY_AUTHENTICATED", account, "You are already logged in");
  s.submit(email && email !== "*" ? { type: "register", password, email, id: ACCOUNT_IDS.register } : { type: "register", password, id: ACCOUNT_IDS.register }, nick);
}

/** OPER name password: logs in to account `name` (an operator named in `operators`) with its password. */
export function oper(s: IrcSession, m: IrcMessage): void {
  const [name, password] = m.params;
  // Not an operator account: refused without a password check (no scrypt work, no guess counted).
  if (!operatorKeys(s.host.settings.operators).has(nickKey(name))) return s.reply(N.ERR_NOOPERHOST, "No O-lines for your host");
  const youreOper = () => {
    s.send(s.numeric(N.RPL_YOUREOPER, "You are now an IRC operator"));
    if (!s.userModes.includes("o")) {
      s.userModes += "o";
      s.send({ source: userSource(s.target), command: "MODE", params: [s.target, "+o"] });
    }
  };
  if (s.host.session.account?.key === nickKey(name)) return youreOper();
  s.host.login(name, password, ACCOUNT_IDS.oper, youreOper);
}

/** Whether `target` is NickServ (PRIVMSG and NOTICE to it are commands, never a DM). */
export function isNickServ(target: string): boolean {
  return target.toLowerCase() === "nickserv" || target.toLowerCase() === "nickserv@services";
}

/** NICKSERV <command> (as `/msg NickServ` or the NS/NICKSERV alias): REGISTER, IDENTIFY, HELP. */
export function nickserv(s: IrcSession, text: string): void {
  const words = text.trim().split(/\s+/);
  const command = (words[0] ?? "").toUpperCase();
  const say = (line: string) => s.send(nickservNotice(s, line));
  switch (command) {
    case "REGISTER": {
      // REGISTER <password> [email]; ergo also takes REGISTER <account> <password>: the hub registers the nick.
      const [password, email] = words.slice(1);
      if (!password) return say("Syntax: REGISTER <password> [email]");
      if (s.host.session.account !== null) return say(`You are already logged in as ${s.host.session.account.name}`);
      return s.submit(email ? { type: "register", password, email, id: ACCOUNT_IDS.nickserv } : { type: "register", password, id: ACCOUNT_IDS.nickserv });
    }
    case "IDENTIFY":
    case "LOGIN": {
      const args = words.slice(1);
      if (args.length === 0 || args.length > 2) return say("Syntax: IDENTIFY [account] <password>");
      const [account, password] = args.length === 2 ? args : [s.host.session.nick!, args[0]];
      return s.host.login(account, password, ACCOUNT_IDS.nickserv, (name) => say(`You are now identified as ${name}`));
    }
    case "":
    case "HELP":
      for (const line of NICKSERV_HELP) say(line);
      return;
    default:
      say(`Unknown command ${command}. Try HELP.`);
  }
}

/** NICKSERV/NS <text>: the alias some clients send for /msg NickServ. */
export function nickservAlias(s: IrcSession, m: IrcMessage): void {
  nickserv(s, m.params.join(" "));
}


