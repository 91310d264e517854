/**
 * The IRCv3 capabilities this server offers, as one table (like ergo's
 * `caps/`): each with a bit used to key shared renderings and a note on what
 * it does here. Only what is true is offered.
 *
 * @module
 */

/** Every capability offered, with its bit. */
export const CAPS = {
  "cap-notify": 1 << 0, // Implied by CAP LS 302; the set never changes at run time.
  "server-time": 1 << 1, // `time` tag on messages, from the hub's ts.
  "message-tags": 1 << 2, // Tags parsed and `msgid` sent; client-only tags are accepted and not relayed.
  "echo-message": 1 << 3, // The sender gets its own PRIVMSG/NOTICE back.
  "away-notify": 1 << 4, // AWAY lines when people in shared channels go away or come back.
  "multi-prefix": 1 << 5, // Accepted; `@` (operator) is the only channel prefix, so one is all there is to show.
  batch: 1 << 6, // Used by labeled-response.
  "labeled-response": 1 << 7, // `label` echoed on the answer; ACK when there is none; a batch when several lines.
  "extended-join": 1 << 8, // JOIN carries the joiner's account (`*`: a guest) and realname.
  "userhost-in-names": 1 << 9, // NAMES lists nick!user@host.
  // CHATHISTORY over room history (chathistory.ts). Only the draft name: the spec is a work in progress and
  // forbids the bare `chathistory` name until it is ratified.
  "draft/chathistory": 1 << 10,
  sasl: 1 << 11, // PLAIN, logging in to tcpchat accounts (handlers/accounts.ts).
  "account-tag": 1 << 12, // `account` tag on messages from logged-in users.
  // REGISTER after connection registration, of the nick in use (the hub registers the session's nick).
  "draft/account-registration": 1 << 13,
  "account-notify": 1 << 14, // ACCOUNT when someone in a shared channel logs in or out after connecting.
} as const;

/** Values shown in CAP LS 302. */
export const CAP_VALUES: Partial<Record<CapName, string>> = { sasl: "PLAIN" };

/** A capability name. */
export type CapName = keyof typeof CAPS;

/** The names in the order they are listed in CAP LS. */
export const CAP_NAMES = Object.keys(CAPS) as CapName[];

/** Whether `name` is a capability this server offers. */
export function isCap(name: string): name is CapName {
  return Object.hasOwn(CAPS, name);
}

/** Whether `mask` (a set of bits) has `cap`. */
export function hasCap(mask: number, cap: CapName): boolean {
  return (mask & CAPS[cap]) !== 0;
}
