/**
 * IRC message syntax: one line is `[@tags] [:source] COMMAND [params...]
 * [:trailing]` (modern.ircdocs.horse "Message format", IRCv3 message-tags).
 * {@linkcode parseIrcLine} reads a client's line; {@linkcode encodeIrcMessage}
 * writes the server's, escaping tag values.
 *
 * @module
 */

/** One IRC message. Tags are in insertion order; a tag without value has value "". */
export interface IrcMessage {
  tags?: Record<string, string>;
  /** `nick!user@host` or the server name; absent on client messages. */
  source?: string;
  /** Upper-cased command or three-digit numeric. */
  command: string;
  params: string[];
}

/** Bytes a line may take without its tags, CR LF excluded (512 with CR LF). */
export const MAX_LINE_BYTES = 510;
/** Bytes a client's tag section may take, `@` and the space after it included (IRCv3: 4094 + 2). */
export const MAX_CLIENT_TAG_BYTES = 4096;

const TAG_UNESCAPES: Record<string, string> = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

/**
 * Parses one line (no CR LF). Returns null for a line with no command (blank,
 * or tags and source only). Commands are upper-cased; params keep their case.
 *
 * @example
 * ```ts
 * parseIrcLine("@label=a PRIVMSG #lobby :hi there");
 * // { tags: { label: "a" }, command: "PRIVMSG", params: ["#lobby", "hi there"] }
 * ```
 */
export function parseIrcLine(line: string): IrcMessage | null {
  let pos = 0;
  const message: IrcMessage = { command: "", params: [] };
  if (line.startsWith("@")) {
    const end = line.indexOf(" ");
    if (end < 0) return null;
    message.tags = parseTags(line.slice(1, end));
    pos = end;
  }
  pos = skipSpaces(line, pos);
  if (line[pos] === ":") {
    const end = line.indexOf(" ", pos);
    if (end < 0) return null;
    message.source = line.slice(pos + 1, end);
    pos = end;
  }
  pos = skipSpaces(line, pos);
  const commandEnd = line.indexOf(" ", pos);
  message.command = line.slice(pos, commandEnd < 0 ? line.length : commandEnd).toUpperCase();
  if (message.command === "") return null;
  pos = commandEnd < 0 ? line.length : commandEnd;
  while (pos < line.length) {
    pos = skipSpaces(line, pos);
    if (pos >= line.length) break;
    if (line[pos] === ":") {
      message.params.push(line.slice(pos + 1));
      break;
    }
    const end = line.indexOf(" ", pos);
    message.params.push(line.slice(pos, end < 0 ? line.length : end));
    pos = end < 0 ? line.length : end;
  }
  return message;
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === " ") pos++;
  return pos;
}

function parseTags(raw: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of raw.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1).replace(/\\(.?)/g, (_, c: string) => TAG_UNESCAPES[c] ?? c);
    tags[key] = value;
  }
  return tags;
}

/** Escapes a tag value (IRCv3 message-tags). */
export function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (c) =>
    c === "\\" ? "\\\\" : c === ";" ? "\\:" : c === " " ? "\\s" : c === "\r" ? "\\r" : "\\n");
}

/**
 * Commands whose last parameter is a name, not text: written without `:`
 * unless it must have one. Every other command's last parameter (message
 * text, numeric text, PING tokens) is always written as trailing (`:text`),
 * as servers traditionally do and as older clients expect.
 */
const STRUCTURAL = new Set(["JOIN", "PART", "NICK", "MODE", "BATCH", "ACK", "CHATHISTORY", "AUTHENTICATE", "ACCOUNT"]);
const UNSAFE_IN_LINE = /[\0\r\n]/;
const UNSAFE_IN_LINE_ALL = /[\0\r\n]/g;

/**
 * One message as a line without CR LF. The last param is written as trailing
 * (`:text`) when it must be (empty, starting with `:`, or holding a space)
 * and for every command that is not in {@linkcode STRUCTURAL}.
 */
export function encodeIrcMessage(message: IrcMessage): string {
  let out = "";
  if (message.tags) {
    const parts: string[] = [];
    for (const key in message.tags) {
      const value = message.tags[key];
      parts.push(value === "" ? key : `${key}=${escapeTagValue(value)}`);
    }
    if (parts.length > 0) out = `@${parts.join(";")} `;
  }
  if (message.source !== undefined) out += `:${message.source} `;
  out += message.command;
  const { params } = message;
  const textLast = !STRUCTURAL.has(message.command);
  for (let i = 0; i < params.length; i++) {
    // A param may echo what a client sent (an unknown nick in 401, say): NUL, CR or LF in it would
    // end or break the line, so they are shown as U+FFFD, as the text dialect shows controls.
    const param = UNSAFE_IN_LINE.test(params[i]) ? params[i].replace(UNSAFE_IN_LINE_ALL, "\uFFFD") : params[i];
    const last = i === params.length - 1;
    out += last && (textLast || param === "" || param.startsWith(":") || param.includes(" ")) ? ` :${param}` : ` ${param}`;
  }
  return out;
}

const encoder = new TextEncoder();

/** Bytes of a string in UTF-8. */
export function utf8Length(text: string): number {
  // Most lines are short ASCII: no need to encode to know they fit.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).length;
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each, on code
 * point boundaries, preferring the last space in each piece.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (utf8Length(text) <= maxBytes) return [text];
  const pieces: string[] = [];
  let piece = "";
  let bytes = 0;
  for (const ch of text) {
    const size = ch.length === 2 ? 4 : ch.charCodeAt(0) < 0x80 ? 1 : ch.charCodeAt(0) < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) {
      const space = piece.lastIndexOf(" ");
      if (space > 0 && space > piece.length / 2) {
        pieces.push(piece.slice(0, space));
        piece = piece.slice(space + 1);
        bytes = utf8Length(piece);
      } else {
        pieces.push(piece);
        piece = "";
        bytes = 0;
      }
    }
    piece += ch;
    bytes += size;
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}
