import { describe, expect, test } from "bun:test";
import { backoffDelayMs, DEFAULT_BACKOFF } from "../../lib/client/backoff.ts";

describe("reconnect backoff", () => {
  test("grows exponentially within [ceiling/2, ceiling] and never passes the cap", () => {
    const opts = { initialMs: 100, maxMs: 3000, factor: 2 };
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(3000, 100 * 2 ** attempt);
      expect(backoffDelayMs(attempt, opts, () => 0)).toBe(ceiling / 2);
      expect(backoffDelayMs(attempt, opts, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      const sample = backoffDelayMs(attempt, opts);
      expect(sample).toBeGreaterThanOrEqual(ceiling / 2);
      expect(sample).toBeLessThanOrEqual(ceiling);
    }
  });

  test("jitter spreads clients out", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(5, DEFAULT_BACKOFF)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
