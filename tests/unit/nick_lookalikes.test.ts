import { describe, expect, test } from "bun:test";
import { PROTOTYPE_COUNT, skeleton } from "../../lib/protocol/confusables.ts";
import { nickKey, nickProblem } from "../../lib/protocol/names.ts";
import { hasDefaultIgnorable, hasMarkStack } from "../../lib/protocol/nick_unicode.ts";

/** The nicks of issue 17 that were all accepted while `bob` was online. */
const INVISIBLE_SUFFIXES: Record<string, string> = {
  "combining grapheme joiner U+034F": "\u034f",
  "variation selector U+FE0F": "\ufe0f",
  "variation selector U+E0100": "\u{e0100}",
  "Mongolian free variation selector U+180B": "\u180b",
  "Hangul filler U+3164": "\u3164",
  "halfwidth Hangul filler U+FFA0": "\uffa0",
  "Hangul choseong filler U+115F": "\u115f",
  "Hangul jungseong filler U+1160": "\u1160",
  "tag character U+E0041": "\u{e0041}",
  "zero width joiner U+200D": "\u200d",
  "soft hyphen U+00AD": "\u00ad",
};

describe("nicks that draw nothing extra are refused", () => {
  for (const [name, ch] of Object.entries(INVISIBLE_SUFFIXES)) {
    test(`bob + ${name} is nick_invalid`, () => {
      expect(nickProblem(`bob${ch}`)).toContain("invisible");
      expect(nickProblem(`b${ch}ob`)).toBeString();
    });
  }

  test("a nick made only of Hangul fillers (a blank nick) is refused", () => {
    for (const blank of ["\u3164", "\uffa0", "\u115f", "\u3164\u3164\u3164", "\u115f\u1160"]) {
      expect(nickProblem(blank)).toBeString();
    }
  });

  test("the check uses Unicode's Default_Ignorable_Code_Point property", () => {
    expect(hasDefaultIgnorable("\u{e01ef}")).toBe(true);
    expect(hasDefaultIgnorable("\u180f")).toBe(true);
    expect(hasDefaultIgnorable("bob")).toBe(false);
    expect(hasDefaultIgnorable("ㅎ한글")).toBe(false);
  });
});

describe("stacks of combining marks are refused", () => {
  test("a + 31 combining marks is nick_invalid", () => {
    expect(nickProblem("a" + "\u0301".repeat(31))).toContain("combining marks");
    expect(nickProblem("a" + "\u0300\u0301\u0302")).toContain("combining marks");
  });

  test("two marks on one base are fine, and a precomposed letter counts its own accent", () => {
    expect(hasMarkStack("a\u0300\u0301")).toBe(false);
    expect(hasMarkStack("\u00e9\u0301\u0301")).toBe(true); // é + 2 = 3 after decomposition
    expect(hasMarkStack("a\u0301b\u0301\u0301")).toBe(false);
  });
});

describe("ordinary nicks in many scripts still work", () => {
  const NICKS = [
    "José", "Ünsal", "Renée", "Nguyễn", "Phượng", "日本", "李雷", "さくら", "한글", "Ελληνικά", "Дмитрий", "Ольга",
    "محمد", "فاطمة", "देवनागरी", "हिन्दी", "श्रीनिवास", "தமிழ்", "ไทย", "กิ๊ก", "עברית", "Ñandú", "Łukasz", "Øyvind",
  ];
  for (const nick of NICKS) {
    test(`${nick} is a valid nick`, () => expect(nickProblem(nick)).toBeUndefined());
  }

  test("different-looking nicks keep different keys", () => {
    const keys = new Set(["alice", "bob", "carol", "Дмитрий", "Ольга", "日本", "李雷", "محمد", "हिन्दी", "José", "Jose1"].map(nickKey));
    expect(keys.size).toBe(11);
  });
});

describe("look-alike nicks share one key", () => {
  test("Cyrillic bоb is the same nick as bob", () => {
    expect(nickKey("b\u043eb")).toBe(nickKey("bob"));
    // вов looks like bob only in capitals (ВОВ, BOB), but case is ignored, so it is one nick too.
    expect(nickKey("\u0432\u043e\u0432")).toBe(nickKey("bob"));
  });

  test("case folding and NFKC still apply: Bob, bob, BOB and fullwidth ｂｏｂ meet", () => {
    for (const nick of ["Bob", "BOB", "ｂｏｂ", "Ｂｏｂ", "bоb", "ΒΟΒ"]) expect(nickKey(nick)).toBe(nickKey("bob"));
  });

  test("digits and letters that look alike meet (0 and O, 1 and l, I and l, rn and m)", () => {
    expect(nickKey("B0B")).toBe(nickKey("BOB"));
    expect(nickKey("BiII")).toBe(nickKey("Bill"));
    expect(nickKey("paypa1")).toBe(nickKey("paypal"));
    expect(nickKey("rnike")).toBe(nickKey("mike"));
  });

  test("the skeleton follows TS #39: NFD, prototypes, NFD", () => {
    expect(PROTOTYPE_COUNT).toBeGreaterThan(6000);
    expect(skeleton("p\u0430ypal")).toBe(skeleton("paypal"));
    expect(skeleton("é")).toBe(skeleton("e\u0301"));
  });

  test("a key costs microseconds (one is made on every hello and nick)", () => {
    const start = performance.now();
    for (let i = 0; i < 10_000; i++) nickKey(`Дмитрий_${i % 50}`);
    expect((performance.now() - start) / 10_000).toBeLessThan(0.05); // < 50 µs each, typically ~1 µs
  });

  test("the longest key stays cheap: 32 x U+FDFA, which NFKC makes 576 characters", () => {
    const nick = "\ufdfa".repeat(32);
    expect(nickProblem(nick)).toBeUndefined();
    const start = performance.now();
    for (let i = 0; i < 1000; i++) nickKey(nick);
    expect((performance.now() - start) / 1000).toBeLessThan(0.5); // < 500 µs each, typically ~30 µs
  });
});
