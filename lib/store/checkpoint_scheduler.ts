/**
 * When to checkpoint the WAL, as pure logic over an injected clock (the
 * {@linkcode Checkpointer} runs it on a timer and carries out its answers on
 * a worker thread's connection).
 *
 * Why: with SQLite's automatic checkpoints, the commit that crosses
 * `wal_autocheckpoint` pages copies the WAL back into the database and
 * fsyncs both files before it returns, on the event loop: in a stream of
 * one-message commits (about 3.4 WAL pages each) that was a 3-8 ms stall
 * every ~290 messages. With automatic checkpoints off, the WAL is
 * checkpointed elsewhere, and this decides how:
 * - `passive` after commits, at most every {@linkcode CheckpointPolicy.passiveEveryMs}:
 *   copies what it can without taking the write lock, so it never blocks a commit;
 * - `truncate` once no commit came for {@linkcode CheckpointPolicy.idleMs}:
 *   empties the WAL file, so an idle server's disk holds only the database;
 * - `restart` when the WAL has passed {@linkcode CheckpointPolicy.maxFrames}:
 *   under steady load a passive checkpoint never sees the WAL fully copied at
 *   the moment of a commit, so SQLite never starts the WAL over and the file
 *   would grow without end; a restart is a passive checkpoint on the worker
 *   and then one on the store's own connection, between two commits, for the
 *   few frames committed meanwhile (its fsyncs are on the event loop, once
 *   per that many frames), so the next commit starts the WAL from its beginning;
 * - `fallback` when the worker failed or has not answered for
 *   {@linkcode CheckpointPolicy.stuckMs}: the caller turns SQLite's automatic
 *   checkpoints back on, so the disk stays bounded even then.
 *
 * @module
 */

/** What to run next (each but `fallback` is the `PRAGMA wal_checkpoint` mode of that name). */
export type CheckpointKind = "passive" | "truncate" | "restart" | "fallback";

/** A `PRAGMA wal_checkpoint` answer: busy (0/1), frames in the WAL, frames copied. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** The thresholds, in milliseconds and WAL frames (pages). */
export interface CheckpointPolicy {
  /** Least time between two passive checkpoints while commits come. */
  passiveEveryMs: number;
  /** Time without commits after which the WAL is truncated. */
  idleMs: number;
  /** WAL frames past which a restart checkpoint starts the WAL over. */
  maxFrames: number;
  /** Time a checkpoint may stay unanswered before the worker is given up. */
  stuckMs: number;
}

/** The defaults: at most 4 passive checkpoints a second, truncate after 1 s idle, WAL at most ~64 MiB (journal_size_limit). */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = {
  passiveEveryMs: 250,
  idleMs: 1000,
  maxFrames: 16384,
  stuckMs: 30_000,
};

/** Decides the next checkpoint from commit counts and the answers to earlier ones. */
export class CheckpointScheduler {
  /** Commit count already covered by a checkpoint that started. */
  #seen = 0;
  /** Commits not yet followed by a successful truncate. */
  #dirty = false;
  #lastCommitAt = 0;
  /** The commit count at the previous tick (a change means commits came since). */
  #countAtLastTick = 0;
  #lastStartAt = Number.NEGATIVE_INFINITY;
  /** The kind in flight and when it started, or null. */
  #inFlight: CheckpointKind | null = null;
  #inFlightSince = 0;
  /** Frames in the WAL at the last answer. */
  #walFrames = 0;
  #gaveUp = false;
  /** Checkpoints that failed in a row. */
  #errors = 0;
  /** Checkpoints answered, by kind (for tests and metrics). */
  readonly done = { passive: 0, truncate: 0, restart: 0 };

  constructor(readonly policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY) {}

  /** Whether the worker was given up (the caller turned automatic checkpoints back on). */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** Frames in the WAL at the last answer. */
  get walFrames(): number {
    return this.#walFrames;
  }

  /**
   * Called on each timer tick with the store's commit count so far; answers
   * what to start now (and counts it as in flight), or null.
   */
  next(now: number, commits: number): CheckpointKind | null {
    if (this.#gaveUp) return null;
    if (commits !== this.#seen) {
      this.#dirty = true;
      if (commits !== this.#countAtLastTick) this.#lastCommitAt = now;
    }
    this.#countAtLastTick = commits;
    if (this.#inFlight !== null) {
      if (now - this.#inFlightSince < this.policy.stuckMs) return null;
      return this.#giveUp();
    }
    let kind: CheckpointKind | null = null;
    if (commits !== this.#seen) {
      if (this.#walFrames >= this.policy.maxFrames) kind = "restart";
      else if (now - this.#lastStartAt >= this.policy.passiveEveryMs) kind = "passive";
    } else if (this.#dirty && now - this.#lastCommitAt >= this.policy.idleMs) {
      kind = "truncate";
    }
    if (kind === null) return null;
    this.#seen = commits;
    this.#inFlight = kind;
    this.#inFlightSince = now;
    this.#lastStartAt = now;
    return kind;
  }

  /** The checkpoint started by the last {@linkcode next} answered. */
  answered(result: CheckpointResult): void {
    const kind = this.#inFlight;
    this.#inFlight = null;
    if (kind === null || kind === "fallback") return;
    this.#errors = 0;
    this.done[kind]++;
    this.#walFrames = result.log < 0 ? 0 : result.log;
    if (result.busy !== 0) {
      // Another writer held the lock: a truncate stays due (the store is still dirty); a restart is
      // tried again at the next tick as if the commits were new.
      if (kind === "restart") this.#seen = -1;
      return;
    }
    if (kind === "truncate") this.#dirty = false;
    // After a restart the next commit starts the WAL over.
    if (kind === "restart") this.#walFrames = 0;
  }

  /**
   * The checkpoint failed in SQLite (a full or failing disk): nothing is
   * lost by waiting, so it is tried again at the next tick, as if the
   * commits were new. Answers whether this is the first failure in a row
   * (the one worth a log line).
   */
  errored(): boolean {
    const first = this.#errors === 0;
    this.#errors++;
    this.#inFlight = null;
    this.#seen = -1;
    return first;
  }

  /** The worker is gone (its thread died): give it up. */
  failed(): CheckpointKind {
    this.#inFlight = null;
    return this.#giveUp();
  }

  #giveUp(): CheckpointKind {
    this.#gaveUp = true;
    this.#inFlight = null;
    return "fallback";
  }
}
