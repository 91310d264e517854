/**
 * The byte budget for history held in memory across all rooms
 * (`history_memory`). Every kept message is charged once, when it is kept;
 * past the budget, the oldest messages of the room that was least recently
 * active (the one whose last message is oldest) go first. Each step is O(1)
 * (a Map delete and set, an addition), and each message is evicted at most
 * once, so the accounting costs O(1) per message.
 *
 * @module
 */

/** A room's history as the budget sees it. */
export interface Evictable {
  /** Messages held now. */
  readonly size: number;
  /** Drops the oldest held message for memory's sake; returns the bytes it was charged. */
  evictOldest(): number;
}

/** Bytes of history held across rooms, and who gives way when they pass the limit. */
export class HistoryBudget {
  /** Bytes charged for every message held now, all rooms. */
  bytes = 0;
  /** Messages dropped to stay under the limit, since start. */
  evicted = 0;
  /** Histories holding messages, least recently active first (a Map keeps insertion order). */
  readonly #byActivity = new Map<Evictable, true>();
  /** The last key of `#byActivity` when known: a busy room's next message moves nothing (issue 15). */
  #newest: Evictable | null = null;

  /** `limit` is read on every check, so a reload that changes it applies at the next message. */
  constructor(readonly limit: () => number) {}

  /** `history` kept a new message of `bytes`: it becomes the most recently active, then the budget is enforced. */
  added(history: Evictable, bytes: number): void {
    this.bytes += bytes;
    if (this.#newest !== history) {
      this.#byActivity.delete(history);
      this.#byActivity.set(history, true);
      this.#newest = history;
    }
    this.enforce();
  }

  /** `history` dropped messages on its own (retention, or it was forgotten). */
  removed(history: Evictable, bytes: number): void {
    this.bytes -= bytes;
    if (history.size === 0) this.#forget(history);
  }

  #forget(history: Evictable): void {
    this.#byActivity.delete(history);
    if (this.#newest === history) this.#newest = null;
  }

  /** Evicts the least recently active rooms' oldest messages until the bytes held are within the limit. */
  enforce(): void {
    const limit = this.limit();
    while (this.bytes > limit) {
      const oldest = this.#byActivity.keys().next();
      if (oldest.done) return;
      const history = oldest.value;
      if (history.size === 0) {
        this.#forget(history);
        continue;
      }
      this.bytes -= history.evictOldest();
      this.evicted++;
      if (history.size === 0) this.#forget(history);
    }
  }

  /** Histories currently charged (for tests and metrics). */
  get rooms(): number {
    return this.#byActivity.size;
  }
}
