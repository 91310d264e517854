/**
 * Nicks held by services, never by users. The IRC dialect answers `NickServ`
 * itself (`PRIVMSG NickServ :IDENTIFY ...`, NOTICEs from
 * `NickServ!NickServ@services.tcpchat`), so a user holding that nick, or one
 * that looks like it, could read other people's passwords sent to it or
 * impersonate it. **Choice:** such a nick is `nick_taken` (the service holds
 * it, always), on every dialect, compared by {@linkcode nickKey} (case fold
 * and confusable skeleton), so `nickserv`, `NICKSERV` and `NickSеrv` with a
 * Cyrillic `е` are refused alike.
 *
 * @module
 */
import { nickKey } from "./names.ts";

/** The service names, as the IRC dialect spells them. */
export const SERVICE_NICKS: readonly string[] = ["NickServ"];

const SERVICE_BY_KEY = new Map(SERVICE_NICKS.map((name) => [nickKey(name), name]));

/**
 * The service whose nick `nick` is or looks like, or undefined for a nick a
 * user may take. `key` is `nickKey(nick)` when the caller has it already.
 *
 * @example
 * ```ts
 * serviceHolding("nickserv"); // "NickServ"
 * serviceHolding("nick");     // undefined
 * ```
 */
export function serviceHolding(nick: string, key: string = nickKey(nick)): string | undefined {
  return SERVICE_BY_KEY.get(key);
}
