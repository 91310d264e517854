/**
 * Token bucket and flood counter, as pure functions over small state records
 * with an injected `now`, so limits can change at run time (a reload) and
 * tests need no timers.
 *
 * @module
 */

/** One connection's bucket (field names distinct from {@linkcode StrikeState}, so one record can hold both). */
export interface BucketState {
  tokens: number;
  tokensAt: number;
}

/** A fresh, full bucket. */
export function newBucket(burst: number, now: number): BucketState {
  return { tokens: burst, tokensAt: now };
}

/**
 * Takes one token. Returns 0 when allowed, else the milliseconds until a token
 * is available. `ratePerS` 0 turns limiting off.
 */
export function takeToken(bucket: BucketState, ratePerS: number, burst: number, now: number): number {
  if (ratePerS <= 0) return 0;
  const elapsedMs = Math.max(0, now - bucket.tokensAt);
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * ratePerS) / 1000);
  bucket.tokensAt = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return Math.ceil(((1 - bucket.tokens) * 1000) / ratePerS);
}

/** Rate-limit violations, forgiven at one per second. */
export interface StrikeState {
  strikes: number;
  strikesAt: number;
}

/** A clean record. */
export function newStrikes(now: number): StrikeState {
  return { strikes: 0, strikesAt: now };
}

/** Records one violation; true when the sender has now passed `limit` and counts as flooding. */
export function addStrike(state: StrikeState, limit: number, now: number): boolean {
  const forgiven = Math.max(0, now - state.strikesAt) / 1000;
  state.strikes = Math.max(0, state.strikes - forgiven) + 1;
  state.strikesAt = now;
  return state.strikes > limit;
}
