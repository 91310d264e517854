/**
 * Nick and room name rules.
 *
 * Nicks: 1-32 code points, letters (with their combining marks) and digits of
 * any script plus `_ - .`. Controls, spaces, bidi overrides and zero-width
 * characters are outside those classes, so they are refused by construction.
 * Uniqueness is by NFKC case fold, so `Bob`, `bob` and fullwidth `ｂｏｂ` are
 * the same nick.
 *
 * Rooms: 1-64 of `a-z 0-9 _ - .`, optionally prefixed by `#`, which is not
 * part of the name.
 *
 * @module
 */

/** Longest nick, in code points. */
export const MAX_NICK_CODE_POINTS = 32;

const NICK_CHARS = /^[\p{L}\p{M}\p{N}_.\-]+$/u;
const ROOM_NAME = /^#?([a-z0-9_.\-]{1,64})$/;

/** Why a nick is refused, as a sentence for the `nick_invalid` error; undefined when it is fine. */
export function nickProblem(nick: string): string | undefined {
  const length = [...nick].length;
  if (length === 0) return "a nick needs at least one character";
  if (length > MAX_NICK_CODE_POINTS) return `a nick has at most ${MAX_NICK_CODE_POINTS} characters (got ${length})`;
  if (!NICK_CHARS.test(nick)) {
    return "a nick may contain only letters, digits, _ - and . (no spaces, controls, bidi or zero-width characters)";
  }
  // A nick of only marks (combining accents) would render as nothing.
  if (!/[\p{L}\p{N}_.\-]/u.test(nick)) return "a nick needs at least one letter or digit";
  return undefined;
}

/** The key under which a nick is unique: NFKC, then case-folded, then NFKC again. */
export function nickKey(nick: string): string {
  return nick.normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** The canonical room name (without `#`), or undefined when `raw` is not a valid room name. */
export function roomName(raw: string): string | undefined {
  return ROOM_NAME.exec(raw)?.[1];
}

/** A sentence describing valid room names, for `invalid` errors. */
export const ROOM_RULE = "a room name is 1-64 characters of a-z 0-9 _ - . with an optional leading #";
