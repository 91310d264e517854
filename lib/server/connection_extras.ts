/**
 * What few connections of the server ever use: text and IRC state, the
 * telnet filter, error-log throttling, a TLS handshake flag, the greeting and
 * linger times. A {@linkcode Connection} makes one of these on the first
 * write of any field and reads defaults while it has none, so an idle JSON
 * connection does not carry nine fields that stay empty (issue 15).
 *
 * @module
 */
import type { IrcSession } from "../dialect/irc/mod.ts";
import type { LogThrottle } from "../ops/log_throttle.ts";
import type { TelnetFilter } from "../protocol/telnet.ts";
import type { TextState } from "../protocol/text_commands.ts";

/** The rarely used part of a connection; every field starts at its "never used" value. */
export class ConnectionExtras {
  /** Made on the first IAC byte of a connection that is not JSON. */
  telnet: TelnetFilter | null = null;
  /** Made when the dialect turns out to be text. */
  text: TextState | null = null;
  /** Made when the dialect turns out to be IRC. */
  irc: IrcSession | null = null;
  /** Whether the first line has been seen (it may turn a text connection into IRC). */
  firstLineSeen = false;
  /** A telnet client was asked to stop echoing (a password is being typed). */
  echoOff = false;
  /** Made on the connection's first error: repeated error lines are collapsed (issue 17). */
  logThrottle: LogThrottle | null = null;
  /** When a closing connection gets closed hard if the peer has not closed its side; 0 when not closing. */
  lingerDeadline = 0;
  /** When the greeting countdown started, when not at the connection's start (TLS: after the handshake). */
  greetFrom: number | undefined = undefined;
  /** Whether a TLS handshake is still under way. */
  handshaking = false;
}
