/** Defaults that depend on context (lib/config/derived_defaults.ts): the start-up warm-up's size by engine. */
import { describe, expect, test } from "bun:test";
import { resolveConfig } from "../../lib/config/sources.ts";

describe("jit_warmup's default by engine", () => {
  test("not set: the table's default on Bun, none on the V8 runtimes", () => {
    expect(resolveConfig({ engine: "bun" }).settings.jit_warmup).toBe(20_000);
    expect(resolveConfig({ engine: "deno" }).settings.jit_warmup).toBe(0);
    expect(resolveConfig({ engine: "node" }).settings.jit_warmup).toBe(0);
  });

  test("set by any source: that value on every runtime, 0 included", () => {
    for (const engine of ["bun", "deno", "node"] as const) {
      expect(resolveConfig({ engine, flags: { jit_warmup: "500" } }).settings.jit_warmup).toBe(500);
      expect(resolveConfig({ engine, env: (name) => (name === "TCPCHAT_JIT_WARMUP" ? "0" : undefined) }).settings.jit_warmup).toBe(0);
    }
  });
});
