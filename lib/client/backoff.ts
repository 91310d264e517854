/**
 * Reconnect delays: exponential backoff with full jitter, so a server restart
 * is not met by every client at the same instant.
 *
 * @module
 */

/** Backoff shape. */
export interface BackoffOptions {
  /** Delay before the first retry's upper bound, in ms. */
  initialMs: number;
  /** Cap on any delay, in ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
}

/** Defaults: 250 ms, doubling, at most 10 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000, factor: 2 };

/**
 * The delay before retry number `attempt` (0-based): a uniform pick between
 * half and all of `initialMs × factor^attempt`, capped at `maxMs`. `random`
 * is injectable for tests.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
