/**
 * A minimal typed event emitter (no runtime dependency).
 *
 * @module
 */

/** Maps event names to their payload types. */
export type EventMap = Record<string, unknown>;

/** Subscribe with `on`, unsubscribe with the function it returns. */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<(payload: never) => void>>();

  /** Calls `listener` for every `event`; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Calls every listener of `event`; a throwing listener does not stop the others. */
  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: E[K]) => void)(payload);
      } catch (error) {
        // One faulty listener must not take the connection (or the process) down.
        console.error(`tcpchat client: ${String(event)} listener failed:`, error);
      }
    }
  }
}
