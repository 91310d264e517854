/** Defaults that depend on context (lib/config/derived_defaults.ts): the start-up warm-up's size by engine. */
import { describe, expect, test } from "bun:test";
import { warmUpMessages } from "../../lib/config/derived_defaults.ts";
import { defaultSettings, SETTING_NAMES, type Settings } from "../../lib/config/settings.ts";

const origins = (set: Partial<Record<keyof Settings, string>> = {}) =>
  ({ ...Object.fromEntries(SETTING_NAMES.map((name) => [name, "default"])), ...set }) as Record<keyof Settings, string>;

describe("warmUpMessages", () => {
  test("not set: the table's default on Bun, none on the V8 runtimes", () => {
    const settings = defaultSettings();
    expect(warmUpMessages(settings, origins(), "bun")).toBe(20_000);
    expect(warmUpMessages(settings, origins(), "deno")).toBe(0);
    expect(warmUpMessages(settings, origins(), "node")).toBe(0);
  });

  test("set by any source: that value on every runtime, 0 included", () => {
    for (const engine of ["bun", "deno", "node"] as const) {
      expect(warmUpMessages({ ...defaultSettings(), jit_warmup: 500 }, origins({ jit_warmup: "flag" }), engine)).toBe(500);
      expect(warmUpMessages({ ...defaultSettings(), jit_warmup: 0 }, origins({ jit_warmup: "env" }), engine)).toBe(0);
    }
  });
});
