/**
 * The Unicode rules that keep a nick visible and short on screen, beyond its
 * allowed character classes (see `names.ts`):
 *
 * - no default-ignorable code point (Unicode's `Default_Ignorable_Code_Point`
 *   property): variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF), the
 *   combining grapheme joiner U+034F, Mongolian free variation selectors
 *   U+180B-U+180F, Hangul fillers U+115F, U+1160, U+3164, U+FFA0, tag
 *   characters U+E0000-U+E0FFF, zero-width joiners and spaces. They draw
 *   nothing, so `bob` + U+FE0F would look exactly like `bob`, and a nick of
 *   Hangul fillers alone is blank. Some of them are letters or marks (U+3164
 *   is a letter), which is why the character classes alone let them in.
 * - at most two combining marks on one base character, counted after
 *   canonical decomposition (so a precomposed `é` counts its accent):
 *   "Zalgo" stacks of marks overdraw the lines around them, and no script a
 *   nick is written in needs more than two (Vietnamese `ệ` has two).
 *
 * @module
 */

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** Most combining marks on one base character. */
export const MAX_MARKS_PER_BASE = 2;
const MARK_STACK = new RegExp(`\\p{M}{${MAX_MARKS_PER_BASE + 1},}`, "u");

/** Whether `text` holds a code point that draws nothing (Default_Ignorable_Code_Point). */
export function hasDefaultIgnorable(text: string): boolean {
  return DEFAULT_IGNORABLE.test(text);
}

/** Whether some base character in `text` carries more than {@linkcode MAX_MARKS_PER_BASE} combining marks. */
export function hasMarkStack(text: string): boolean {
  return MARK_STACK.test(text.normalize("NFD"));
}
