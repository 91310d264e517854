/**
 * Nick and room name rules.
 *
 * Nicks: 1-32 code points, letters (with their combining marks) and digits of
 * any script plus `_ - .`. Controls, spaces, bidi overrides and zero-width
 * characters are outside those classes, so they are refused by construction.
 * Code points that draw nothing and stacks of combining marks are refused too
 * (`nick_unicode.ts`). Uniqueness is by NFKC case fold and then confusable
 * skeleton (Unicode TS #39, `confusables.ts`), so `Bob`, `bob`, fullwidth
 * `ｂｏｂ` and `bоb` with a Cyrillic о are the same nick.
 *
 * Rooms: 1-64 of `a-z 0-9 _ - .`, optionally prefixed by `#`, which is not
 * part of the name.
 *
 * @module
 */

/** Longest nick, in code points. */
export const MAX_NICK_CODE_POINTS = 32;

import { skeleton } from "./confusables.ts";
import { hasDefaultIgnorable, hasMarkStack, MAX_MARKS_PER_BASE } from "./nick_unicode.ts";

const NICK_CHARS = /^[\p{L}\p{M}\p{N}_.\-]+$/u;
const ROOM_NAME = /^#?([a-z0-9_.\-]{1,64})$/;

/** Why a nick is refused, as a sentence for the `nick_invalid` error; undefined when it is fine. */
export function nickProblem(nick: string): string | undefined {
  const length = [...nick].length;
  if (length === 0) return "a nick needs at least one character";
  if (length > MAX_NICK_CODE_POINTS) return `a nick has at most ${MAX_NICK_CODE_POINTS} characters (got ${length})`;
  // Checked first, with its own sentence: some of these are letters or marks and pass NICK_CHARS.
  if (hasDefaultIgnorable(nick)) {
    return "a nick may not contain invisible characters (variation selectors, joiners, fillers, tags)";
  }
  if (!NICK_CHARS.test(nick)) {
    return "a nick may contain only letters, digits, _ - and . (no spaces, controls, bidi or zero-width characters)";
  }
  // A nick of only marks (combining accents) would render as nothing.
  if (!/[\p{L}\p{N}_.\-]/u.test(nick)) return "a nick needs at least one letter or digit";
  if (hasMarkStack(nick)) return `a nick has at most ${MAX_MARKS_PER_BASE} combining marks on one character`;
  return undefined;
}

/**
 * The key under which a nick is unique. Its start is the NFKC case fold
 * (NFKC, lower case, NFKC again), so `Bob`, `bob` and `ｂｏｂ` meet as they
 * always did. Then confusable skeletons (Unicode TS #39) of that fold
 * written in capitals and in small letters: since case is ignored, two nicks
 * are one when they look alike in either case. Capitals first catch `ΒΟΒ`
 * (Greek) and `B0B` against `BOB`, and `I` against `l`; small letters then
 * catch `bоb` (Cyrillic о) and `rn` against `m`. This merges a little more
 * than the eye would (`вов` meets `bob`, because `ВОВ` looks like `BOB`),
 * which costs a person another nick, never an impersonation.
 */
export function nickKey(nick: string): string {
  // A hello asks for the same key three times (account check, holder lookup, claim): remember the last one (issue 15).
  if (nick === lastKeyOf) return lastKey;
  const fold = nickFold(nick);
  const key = skeleton(skeleton(fold.toUpperCase()).toLowerCase()).toLowerCase();
  lastKeyOf = nick;
  // Most nicks are their own key: hand back the nick, so a session does not hold a second copy (issue 15).
  return (lastKey = key === nick ? nick : key);
}

/** The nick {@linkcode nickKey} answered last, and its key. */
let lastKeyOf: string | undefined;
let lastKey = "";

/**
 * The NFKC case fold of a nick (NFKC, lower case, NFKC again): the order in
 * which `who` pages through a room. Two nicks online at once never share it,
 * since equal folds make equal {@linkcode nickKey}s.
 */
export function nickFold(nick: string): string {
  const fold = nick.normalize("NFKC").toLowerCase().normalize("NFKC");
  // The same string when nothing changed: a room's member index then keeps no copy of the nick.
  return fold === nick ? nick : fold;
}

/** The canonical room name (without `#`), or undefined when `raw` is not a valid room name. */
export function roomName(raw: string): string | undefined {
  return ROOM_NAME.exec(raw)?.[1];
}

/** A sentence describing valid room names, for `invalid` errors. */
export const ROOM_RULE = "a room name is 1-64 characters of a-z 0-9 _ - . with an optional leading #";
