import { describe, expect, test } from "bun:test";
import { GuessLimiter, type GuessTicket } from "../../lib/hub/guess_limiter.ts";

const ticket = (r: ReturnType<GuessLimiter["begin"]>): GuessTicket => {
  if ("retryAfterMs" in r) throw new Error(`refused: ${r.retryAfterMs}`);
  return r;
};

describe("guess limiter", () => {
  test("after 5 wrong passwords for an account the 6th attempt is refused until the first ages out", () => {
    const limiter = new GuessLimiter();
    for (let i = 0; i < 5; i++) limiter.settle(ticket(limiter.begin("amy", `10.0.0.${i}`, 1000 + i)), false);
    expect(limiter.begin("amy", "10.0.0.9", 2000)).toEqual({ retryAfterMs: 59_000 });
    expect("keys" in limiter.begin("bob", "10.0.0.9", 2000)).toBe(true);
    expect("keys" in limiter.begin("amy", "10.0.0.9", 61_000)).toBe(true);
  });

  test("the limit holds per address across accounts, loopback included", () => {
    const limiter = new GuessLimiter();
    for (let i = 0; i < 5; i++) limiter.settle(ticket(limiter.begin(`acct${i}`, "127.0.0.1", 0)), false);
    expect(limiter.begin("other", "127.0.0.1", 10)).toEqual({ retryAfterMs: 59_990 });
  });

  test("a right password forgives its attempt; attempts in flight count until they are settled", () => {
    const limiter = new GuessLimiter();
    for (let i = 0; i < 20; i++) limiter.settle(ticket(limiter.begin("amy", "a", i)), true);
    const inFlight = Array.from({ length: 5 }, (_, i) => ticket(limiter.begin("amy", "a", 100 + i)));
    // Five unanswered guesses: a sixth sent before any answer is refused.
    expect("retryAfterMs" in limiter.begin("amy", "a", 200)).toBe(true);
    for (const t of inFlight) limiter.settle(t, true);
    expect("keys" in limiter.begin("amy", "a", 201)).toBe(true);
  });

  test("memory is bounded: past maxKeys the least recently failed is forgotten", () => {
    const limiter = new GuessLimiter(5, 60_000, 10);
    for (let i = 0; i < 5; i++) limiter.settle(ticket(limiter.begin("acct0", `ip${i}`, 0)), false);
    expect("retryAfterMs" in limiter.begin("acct0", "elsewhere", 1)).toBe(true);
    for (let i = 1; i < 20; i++) limiter.settle(ticket(limiter.begin(`acct${i}`, `other${i}`, 2)), false);
    // acct0's failures were the oldest of more than 10 tracked keys: forgotten.
    expect("keys" in limiter.begin("acct0", "elsewhere", 3)).toBe(true);
  });
});
