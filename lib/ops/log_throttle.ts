/**
 * Collapses repeated log events about one connection: at most one line per
 * key (an error code) per interval, and the next line that is written
 * carries how many were left out in between. A client that sends 40 frames
 * in one write and earns 30 `rate_limited` errors costs one log line, not 30.
 *
 * Pure logic over an injected clock. One throttle belongs to one connection
 * and is made only when that connection first logs something it covers, so
 * the many quiet connections pay nothing; it holds one small record per key
 * seen (error codes are a short, fixed list) and is dropped with the
 * connection.
 *
 * @module
 */

/** {@linkcode LogThrottle.admit}'s answer for an event that must not be logged. */
export const SUPPRESSED = -1;

/** Per-key state: when its last line was written, and how many were left out since. */
interface KeyState {
  loggedAt: number;
  suppressed: number;
}

/** One connection's log throttle. */
export class LogThrottle {
  readonly #keys = new Map<string, KeyState>();

  /** @param intervalMs at most one line per key per this many ms. */
  constructor(readonly intervalMs: number = 1000) {}

  /**
   * Called for each event: -1 when it must not be logged; otherwise it must
   * be, and the result is how many events of this key were left out since
   * the last one logged (0 usually), to go on its line.
   *
   * @example
   * ```ts
   * const throttle = new LogThrottle();
   * throttle.admit("rate_limited", 0);    // 0: log it
   * throttle.admit("rate_limited", 10);   // -1: left out
   * throttle.admit("rate_limited", 1000); // 1: log it, with "1 left out"
   * ```
   */
  admit(key: string, now: number): number {
    const state = this.#keys.get(key);
    if (state === undefined) {
      this.#keys.set(key, { loggedAt: now, suppressed: 0 });
      return 0;
    }
    if (now - state.loggedAt < this.intervalMs) {
      state.suppressed++;
      return SUPPRESSED;
    }
    const suppressed = state.suppressed;
    state.loggedAt = now;
    state.suppressed = 0;
    return suppressed;
  }

  /**
   * Events left out and not yet reported on a line, per key (keys with none
   * are omitted), and forgets them: for the connection's last log line.
   */
  takeSuppressed(): Record<string, number> | undefined {
    let out: Record<string, number> | undefined;
    for (const [key, state] of this.#keys) {
      if (state.suppressed === 0) continue;
      (out ??= {})[key] = state.suppressed;
      state.suppressed = 0;
    }
    return out;
  }
}
