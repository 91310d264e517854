import { describe, expect, test } from "bun:test";
import { addStrike, newBucket, newStrikes, takeToken } from "../../lib/hub/rate_limiter.ts";

describe("token bucket", () => {
  test("allows a burst, then one token per 1/rate seconds", () => {
    const bucket = newBucket(10, 0);
    for (let i = 0; i < 10; i++) expect(takeToken(bucket, 5, 10, 0)).toBe(0);
    expect(takeToken(bucket, 5, 10, 0)).toBe(200);
    expect(takeToken(bucket, 5, 10, 100)).toBe(100);
    expect(takeToken(bucket, 5, 10, 200)).toBe(0);
    expect(takeToken(bucket, 5, 10, 200)).toBe(200);
  });

  test("never holds more than the burst however long it was idle", () => {
    const bucket = newBucket(3, 0);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (takeToken(bucket, 5, 3, 1_000_000) === 0) allowed++;
    expect(allowed).toBe(3);
  });

  test("rate 0 turns limiting off", () => {
    const bucket = newBucket(1, 0);
    for (let i = 0; i < 1000; i++) expect(takeToken(bucket, 0, 1, 0)).toBe(0);
  });

  test("over a long run a sender gets at most burst + rate x time", () => {
    const bucket = newBucket(10, 0);
    let allowed = 0;
    for (let t = 0; t <= 10_000; t += 7) if (takeToken(bucket, 5, 10, t) === 0) allowed++;
    expect(allowed).toBeLessThanOrEqual(10 + 5 * 10);
    expect(allowed).toBeGreaterThanOrEqual(5 * 10);
  });
});

describe("flood strikes", () => {
  test("a steady flood passes the limit, an occasional slip does not", () => {
    const flood = newStrikes(0);
    let tripped = -1;
    for (let i = 0; i < 100 && tripped < 0; i++) if (addStrike(flood, 20, i * 10)) tripped = i;
    expect(tripped).toBe(20);

    const slips = newStrikes(0);
    for (let i = 0; i < 100; i++) expect(addStrike(slips, 20, i * 2000)).toBe(false);
  });
});
