/**
 * Connection registration and upkeep: CAP (LS 302, REQ, END, LIST), NICK,
 * USER, PASS, PING, PONG, QUIT. Registration completes, as a hub `hello`,
 * once NICK and USER are in and any CAP negotiation has ended.
 *
 * @module
 */
import { CAP_NAMES, CAP_VALUES } from "../caps.ts";
import type { IrcMessage } from "../message.ts";
import { N } from "../numerics.ts";
import type { IrcSession } from "../session.ts";

/** CAP LS / LIST / REQ / END. */
export function cap(s: IrcSession, m: IrcMessage): void {
  const sub = m.params[0].toUpperCase();
  const target = s.target;
  const answer = (...params: string[]) => s.send({ source: s.serverName, command: "CAP", params: [target, ...params] });
  switch (sub) {
    case "LS":
      if (!s.registered) s.capNegotiating = true;
      // 302 clients get cap-notify implicitly, and values (sasl=PLAIN).
      if (Number(m.params[1] ?? 0) >= 302) {
        s.setCaps([{ name: "cap-notify", on: true }]);
        return answer("LS", CAP_NAMES.map((name) => CAP_VALUES[name] ? `${name}=${CAP_VALUES[name]}` : name).join(" "));
      }
      return answer("LS", CAP_NAMES.join(" "));
    case "LIST":
      return answer("LIST", CAP_NAMES.filter((name) => s.has(name)).join(" "));
    case "REQ": {
      if (!s.registered) s.capNegotiating = true;
      const wanted = m.params[1] ?? "";
      const changes = wanted.split(" ").filter((w) => w !== "").map((w) =>
        w.startsWith("-") ? { name: w.slice(1), on: false } : { name: w, on: true }
      );
      return answer(s.setCaps(changes) ? "ACK" : "NAK", wanted);
    }
    case "END":
      if (s.registered) return;
      s.capNegotiating = false;
      return tryRegister(s);
    default:
      return s.reply(N.ERR_INVALIDCAPCMD, m.params[0], "Invalid CAP command");
  }
}

/** NICK: the nick to register with, or a rename. */
export function nick(s: IrcSession, m: IrcMessage): void {
  const wanted = m.params[0];
  if (wanted === undefined || wanted === "") return s.reply(N.ERR_NONICKNAMEGIVEN, "No nickname given");
  if (!s.registered) {
    s.pendingNick = wanted;
    return tryRegister(s);
  }
  if (wanted === s.host.session.nick) return;
  s.submit({ type: "nick", nick: wanted }, wanted);
}

/** USER username mode unused :realname. */
export function user(s: IrcSession, m: IrcMessage): void {
  if (s.registered || s.user !== null) return s.reply(N.ERR_ALREADYREGISTERED, "You may not reregister");
  s.user = { username: m.params[0], realname: m.params[3] };
  tryRegister(s);
}

/** PASS password: the password of the account named by NICK (ignored when the nick is no account). */
export function pass(s: IrcSession, m: IrcMessage): void {
  if (s.registered) return s.reply(N.ERR_ALREADYREGISTERED, "You may not reregister");
  s.pendingPassword = m.params[0];
}

/** PING token: PONG with the same token. */
export function ping(s: IrcSession, m: IrcMessage): void {
  s.send({ source: s.serverName, command: "PONG", params: [s.serverName, m.params[0]] });
}

/** PONG: the line itself is the sign of life the heartbeat wants. */
export function pong(): void {}

/** QUIT [reason]: goodbye through the hub, which answers with ERROR and closes. */
export function quit(s: IrcSession, m: IrcMessage): void {
  const reason = m.params[0];
  s.submit(reason ? { type: "quit", reason: [...reason].slice(0, 200).join("") } : { type: "quit" });
}

/** Sends the hub `hello` once NICK and USER are in and CAP negotiation (if any) is over. */
function tryRegister(s: IrcSession): void {
  if (s.registered || s.pendingNick === null || s.user === null || s.capNegotiating) return;
  const password = s.pendingPassword;
  s.pendingPassword = null;
  s.submit(password ? { type: "hello", nick: s.pendingNick, client: "irc", password } : { type: "hello", nick: s.pendingNick, client: "irc" }, s.pendingNick);
}
