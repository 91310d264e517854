import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LatencyHistogram } from "../../lib/bench/histogram.ts";

/** Nearest-rank percentile of sorted values: the exact answer the histogram approximates. */
function exactPercentile(sorted: number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function histogramOf(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

describe("LatencyHistogram", () => {
  test("an empty histogram has no percentiles and zero samples", () => {
    const h = new LatencyHistogram();
    expect(h.percentile(50)).toBeUndefined();
    expect(h.summary()).toEqual({
      samples: 0,
      p50_us: undefined,
      p99_us: undefined,
      p999_us: undefined,
      max_us: undefined,
      mean_us: undefined,
    });
  });

  test("values below 256 µs are kept exactly", () => {
    const values = Array.from({ length: 256 }, (_, i) => i);
    const h = histogramOf(values);
    for (const percent of [0.5, 10, 50, 90, 99, 99.9, 100]) {
      expect(h.percentile(percent)).toBe(exactPercentile(values, percent));
    }
  });

  test("p50, p99 and p99.9 of 1..100000 µs are within 0.8 % above the exact values", () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i + 1);
    const h = histogramOf(values);
    for (const [percent, exact] of [[50, 50_000], [99, 99_000], [99.9, 99_900]] as const) {
      const got = h.percentile(percent)!;
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * (1 + 1 / 128));
    }
    expect(h.summary().max_us).toBe(100_000);
    expect(h.summary().mean_us).toBe(50_000.5);
  });

  test("any percentile of any sample is never below the exact value nor more than 1/128 above it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, percent) => {
          const exact = exactPercentile([...values].sort((a, b) => a - b), percent);
          const got = histogramOf(values).percentile(percent)!;
          return got >= exact && got <= exact + Math.floor(exact / 128);
        },
      ),
    );
  });

  test("a single value is every percentile, exactly", () => {
    const h = histogramOf([123_457]);
    expect(h.percentile(0)).toBe(123_457);
    expect(h.percentile(50)).toBe(123_457);
    expect(h.percentile(100)).toBe(123_457);
  });

  test("negative values count as 0, fractions are rounded, huge values are clamped", () => {
    const h = histogramOf([-5, 2.6, 1e12]);
    expect(h.count).toBe(3);
    expect(h.percentile(1)).toBe(0);
    expect(h.percentile(50)).toBe(3);
    expect(h.percentile(100)).toBe(2 ** 32 - 1);
  });

  test("merging gives the same percentiles as recording everything in one", () => {
    const a = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 40_000);
    const b = Array.from({ length: 3000 }, (_, i) => 30_000 + ((i * 104_729) % 900_000));
    const merged = histogramOf(a);
    merged.merge(histogramOf(b));
    const whole = histogramOf([...a, ...b]);
    expect(merged.summary()).toEqual(whole.summary());
  });

  test("reset forgets every value", () => {
    const h = histogramOf([1, 2, 3]);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeUndefined();
    h.record(7);
    expect(h.summary().max_us).toBe(7);
  });
});
