/**
 * Memory handed back after a burst (issue 15). A connect storm, a flood or a
 * long history replay leaves the engine holding heap it no longer needs: its
 * collector runs only while JavaScript allocates, so a server that then goes
 * quiet keeps the peak for good. Every half second the server asks
 * {@linkcode IdleMemory.check}; when nothing happened since the previous
 * check (no connection, no chat frame; heartbeats do not count) and the
 * resident size grew by `growthBytes` since the last release (and by a
 * quarter, past {@linkcode LARGE_PROCESS_BYTES}), it runs one full collection
 * that returns the freed pages (`Runtime.releaseMemory`).
 *
 * The collection pauses the process (measured: see docs/benchmarks.md), which
 * is why it waits for a quiet moment and why growth, not time, triggers it: a
 * server whose memory is all live data is not collected over and over.
 *
 * @module
 */

/** What the check reads and does; injected so that tests need no engine. */
export interface IdleMemoryProbe {
  /** Resident set size in bytes. */
  rss(): number;
  /** A count that moves whenever a client connects or a chat frame is handled or delivered. */
  activity(): number;
  /** `Runtime.releaseMemory`: false when the runtime cannot. */
  release(): boolean;
  /** Milliseconds, for the pause. */
  now(): number;
}

/** One release: the resident size before and after, and how long the process paused. */
export interface MemoryRelease {
  rssBefore: number;
  rssAfter: number;
  pauseMs: number;
}

/**
 * Past this resident size a release also waits for growth by a quarter: a
 * full collection of a heap this large pauses for 100 ms or more.
 */
export const LARGE_PROCESS_BYTES = 256 * 1024 * 1024;

/** How often the server runs {@linkcode IdleMemory.check}. */
export const IDLE_MEMORY_CHECK_MS = 500;

/** Decides when a quiet server gives memory back; see the module doc. */
export class IdleMemory {
  /** Resident size after the last release, or the lowest seen since. */
  #floor: number;
  #lastActivity: number;
  /** Set when the runtime said it cannot release: stop asking. */
  #unsupported = false;

  constructor(readonly probe: IdleMemoryProbe) {
    this.#floor = probe.rss();
    this.#lastActivity = probe.activity();
  }

  /**
   * One check. Releases (and says what it did) when nothing happened since the
   * previous check and the resident size is `growthBytes` above the floor (and a quarter, for a large process);
   * `growthBytes` 0 turns releases off.
   */
  check(growthBytes: number): MemoryRelease | null {
    const activity = this.probe.activity();
    const quiet = activity === this.#lastActivity;
    this.#lastActivity = activity;
    if (!quiet || growthBytes <= 0 || this.#unsupported) return null;
    const rssBefore = this.probe.rss();
    // A large process pauses longer: it must also have grown by a quarter, so its pauses stay rare.
    const proportional = this.#floor > LARGE_PROCESS_BYTES ? this.#floor / 4 : 0;
    if (rssBefore < this.#floor + Math.max(growthBytes, proportional)) {
      this.#floor = Math.min(this.#floor, rssBefore);
      return null;
    }
    const startedAt = this.probe.now();
    if (!this.probe.release()) {
      this.#unsupported = true;
      return null;
    }
    const pauseMs = this.probe.now() - startedAt;
    const rssAfter = this.probe.rss();
    // What is still resident is live: the next release waits for new growth above it.
    this.#floor = rssAfter;
    return { rssBefore, rssAfter, pauseMs };
  }
}
