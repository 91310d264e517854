/**
 * Slows password guessing: more than `maxFailures` wrong passwords within
 * `windowMs` for one account, or from one address, and further attempts are
 * refused without being checked, until the oldest failure ages out.
 *
 * An attempt counts as a failure from the moment it starts and is forgiven
 * when its password turns out right: so a burst of attempts sent before any
 * answer (many connections at once) cannot slip past the limit while the
 * hashes are still being computed. Loopback gets no exemption.
 *
 * Memory is bounded: at most `maxKeys` accounts and addresses are tracked;
 * past that the least recently failed is forgotten.
 *
 * @module
 */

/** One attempt in flight, to be settled with {@linkcode GuessLimiter.settle}. */
export interface GuessTicket {
  readonly keys: string[];
  readonly at: number;
}

/** Failure times per account (`a:KEY`) and per address (`ip:ADDR`). */
export class GuessLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 60_000,
    readonly maxKeys = 100_000,
  ) {}

  /**
   * Starts an attempt on `account` from `address`: a ticket, or the
   * milliseconds to wait when either is over the limit.
   */
  begin(account: string, address: string, now: number): GuessTicket | { retryAfterMs: number } {
    const keys = [`a:${account}`, `ip:${address}`];
    let retryAfterMs = 0;
    for (const key of keys) {
      const times = this.#recent(key, now);
      if (times.length >= this.maxFailures) {
        retryAfterMs = Math.max(retryAfterMs, times[times.length - this.maxFailures] + this.windowMs - now);
      }
    }
    if (retryAfterMs > 0) return { retryAfterMs: Math.max(1, retryAfterMs) };
    for (const key of keys) this.#push(key, now);
    return { keys, at: now };
  }

  /** Ends an attempt: a right password forgives it; a wrong one stays counted. */
  settle(ticket: GuessTicket, right: boolean): void {
    if (!right) return;
    for (const key of ticket.keys) {
      const times = this.#failures.get(key);
      const i = times?.lastIndexOf(ticket.at) ?? -1;
      if (i >= 0) times!.splice(i, 1);
      if (times?.length === 0) this.#failures.delete(key);
    }
  }

  #recent(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (!times) return [];
    while (times.length > 0 && times[0] <= now - this.windowMs) times.shift();
    if (times.length === 0) this.#failures.delete(key);
    return times;
  }

  #push(key: string, now: number): void {
    const times = this.#failures.get(key) ?? [];
    // Re-inserting moves the key to the end: the Map's order is least recently failed first.
    this.#failures.delete(key);
    times.push(now);
    // More than the limit is never needed to decide.
    if (times.length > this.maxFailures * 2) times.splice(0, times.length - this.maxFailures * 2);
    this.#failures.set(key, times);
    if (this.#failures.size > this.maxKeys) this.#failures.delete(this.#failures.keys().next().value!);
  }
}
