import { describe, expect, test } from "bun:test";
import { LogThrottle, SUPPRESSED } from "../../lib/ops/log_throttle.ts";

describe("LogThrottle", () => {
  test("the first event of a code is logged, repeats within a second are not, the next line counts them", () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.admit("rate_limited", 0)).toBe(0);
    for (let t = 1; t < 30; t++) expect(throttle.admit("rate_limited", t)).toBe(SUPPRESSED);
    expect(throttle.admit("rate_limited", 999)).toBe(SUPPRESSED);
    expect(throttle.admit("rate_limited", 1000)).toBe(30);
    expect(throttle.admit("rate_limited", 1500)).toBe(SUPPRESSED);
    expect(throttle.admit("rate_limited", 2000)).toBe(1);
  });

  test("codes are throttled apart", () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.admit("rate_limited", 0)).toBe(0);
    expect(throttle.admit("invalid", 10)).toBe(0);
    expect(throttle.admit("rate_limited", 20)).toBe(SUPPRESSED);
    expect(throttle.admit("invalid", 30)).toBe(SUPPRESSED);
  });

  test("a steady flood is logged once per second, whatever its rate", () => {
    const throttle = new LogThrottle(1000);
    let logged = 0;
    for (let t = 0; t < 10_000; t += 1) if (throttle.admit("rate_limited", t) !== SUPPRESSED) logged++;
    expect(logged).toBe(10);
  });

  test("what was left out and not yet counted is handed over once, for the last line", () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.takeSuppressed()).toBeUndefined();
    throttle.admit("rate_limited", 0);
    throttle.admit("rate_limited", 1);
    throttle.admit("rate_limited", 2);
    throttle.admit("invalid", 3);
    expect(throttle.takeSuppressed()).toEqual({ rate_limited: 2 });
    expect(throttle.takeSuppressed()).toBeUndefined();
    expect(throttle.admit("rate_limited", 1000)).toBe(0);
  });
});
