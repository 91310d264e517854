/**
 * Telling IRC from the text dialect on the shared port: a first line that is
 * an IRC registration command (`CAP`, `NICK`, `USER` or `PASS`, any case,
 * then a space or the end of the line) makes the connection IRC. A person on
 * nc who types `NICK bob` gets IRC; one who types `bob` or `/nick bob` gets text.
 *
 * @module
 */

const REGISTRATION = /^(?:CAP|NICK|USER|PASS)(?: |$)/i;

/** Whether a connection's first line says it speaks IRC. */
export function isIrcRegistrationLine(line: string): boolean {
  return REGISTRATION.test(line.trimStart());
}
