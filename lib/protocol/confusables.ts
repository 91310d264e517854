/**
 * Confusable skeletons (Unicode Technical Standard #39, section 4): two
 * strings that look alike have the same skeleton, so `bob` and `bоb` (with a
 * Cyrillic о) can be told to be "the same nick".
 *
 * The prototypes come from Unicode's `confusables.txt`, as shipped by the
 * `unhomoglyph` package (nodeca; Unicode 13.0 data, 6,311 single code points
 * each mapped to a prototype string). We use only its data, not its regex:
 * a Map lookup per code point keeps a skeleton of a 32-character nick in the
 * microseconds, and the Map is built once, when the module loads.
 *
 * @module
 */
import data from "unhomoglyph/data.json" with { type: "json" };

/** Code point (as a string) to its prototype, from confusables.txt. */
const PROTOTYPES: ReadonlyMap<string, string> = new Map(Object.entries(data as Record<string, string>));

/**
 * The TS #39 skeleton of `text`: NFD, each code point replaced by its
 * prototype, NFD again. Equal skeletons mean "confusable"; a skeleton is
 * not meant to be shown (`m` becomes `rn`, `0` becomes `O`).
 *
 * @example
 * ```ts
 * skeleton("b\u043eb") === skeleton("bob"); // true: Cyrillic о looks like o
 * ```
 */
export function skeleton(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFD")) out += PROTOTYPES.get(ch) ?? ch;
  return out.normalize("NFD");
}

/** How many code points have a prototype other than themselves (for tests and docs). */
export const PROTOTYPE_COUNT: number = PROTOTYPES.size;
