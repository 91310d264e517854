/**
 * Takes WAL checkpoints off the message path: SQLite's automatic checkpoints
 * are turned off on the store's connection, and a worker thread with its own
 * connection to the same file runs the checkpoints a
 * {@linkcode CheckpointScheduler} asks for, from a timer. The worker's
 * fsyncs then wait on its own thread, not inside a commit.
 *
 * Durability is unchanged: a commit is still a write to the WAL before any
 * byte of its ack leaves the process (`synchronous=NORMAL` on both
 * connections: the WAL is synced before each checkpoint, the database after).
 * Where no worker can be started, or it fails or stops answering, the store's
 * connection goes back to SQLite's automatic checkpoints.
 *
 * @module
 */
import type { SqliteDb } from "../runtime/sqlite.ts";
import { openSqliteWorker, type SqliteWorker, SqliteWorkerGone } from "../runtime/sqlite_worker.ts";
import { CheckpointScheduler, type CheckpointPolicy, DEFAULT_CHECKPOINT_POLICY } from "./checkpoint_scheduler.ts";

/** SQLite's own automatic checkpoint threshold, used when no worker runs. */
export const AUTO_CHECKPOINT_PAGES = 1000;
/** How often the scheduler is asked (a tick costs a comparison when nothing is due). */
const TICK_MS = 100;

/** Runs the scheduler's checkpoints on a worker; see the module comment. */
export class Checkpointer {
  /** Commits so far (the store counts each). */
  commits = 0;
  readonly scheduler: CheckpointScheduler;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  private constructor(
    readonly db: SqliteDb,
    readonly worker: SqliteWorker,
    policy: CheckpointPolicy,
    readonly onProblem: (message: string) => void,
    manual: boolean,
  ) {
    this.scheduler = new CheckpointScheduler(policy);
    this.#timer = manual ? undefined : setInterval(() => this.tick(performance.now()), TICK_MS);
    if (this.#timer !== undefined) unref(this.#timer);
  }

  /**
   * Starts the worker on the database at `path` (already open as `db`, WAL,
   * migrated) and turns `db`'s automatic checkpoints off; null, with `db`
   * left on automatic checkpoints and `onProblem` told why, when no worker
   * can run here. With `manual`, no timer runs: the caller (a test) calls
   * {@linkcode tick} with its own clock.
   */
  static async start(
    path: string,
    db: SqliteDb,
    onProblem: (message: string) => void,
    policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY,
    manual = false,
  ): Promise<Checkpointer | null> {
    let worker: SqliteWorker | undefined;
    try {
      worker = await openSqliteWorker(path, ["PRAGMA busy_timeout = 100", "PRAGMA synchronous = NORMAL"]);
      // Proves the worker can checkpoint (and copies back what a previous run left in the WAL).
      await worker.query("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (error) {
      worker?.close();
      onProblem(`WAL checkpoints stay on the message path (no worker thread: ${(error as Error).message})`);
      return null;
    }
    db.exec("PRAGMA wal_autocheckpoint = 0");
    return new Checkpointer(db, worker, policy, onProblem, manual);
  }

  /** Counts a commit (called by the store after each). */
  committed(): void {
    this.commits++;
  }

  /**
   * One timer tick at `now` (milliseconds): starts what the scheduler asks
   * for; the promise settles when it has been answered (tests wait on it).
   */
  tick(now: number): Promise<void> | undefined {
    if (this.#closed) return;
    const kind = this.scheduler.next(now, this.commits);
    if (kind === null) return;
    if (kind === "fallback") return void this.#fallBack("the checkpoint worker stopped answering");
    // Starting the WAL over needs a checkpoint that finishes with no commit after it began. From the
    // worker that means holding the write lock through its fsyncs, and a commit that meets the lock
    // sleeps in SQLite's busy handler (1, 2, 5, 10 ms ... : a 30 ms fsync became an 80 ms stall). So the
    // worker copies almost everything, then this connection copies the few frames committed meanwhile
    // and syncs, between two commits; the next commit starts the WAL over. Once per maxFrames pages.
    const run = kind === "restart"
      ? this.worker.query("PRAGMA wal_checkpoint(PASSIVE)").then(() => {
        if (this.#closed) throw new SqliteWorkerGone("closed");
        return { row: this.db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() ?? null, ms: 0 };
      })
      : this.worker.query(`PRAGMA wal_checkpoint(${kind.toUpperCase()})`);
    return run.then(
      (answer) => this.scheduler.answered(answer.row as { busy: number; log: number; checkpointed: number }),
      (error) => {
        if (this.#closed) return;
        if (error instanceof SqliteWorkerGone) {
          this.scheduler.failed();
          return this.#fallBack((error as Error).message);
        }
        // A full or failing disk: the WAL keeps what is committed; try again at the next tick.
        if (this.scheduler.errored()) this.onProblem(`a WAL checkpoint failed (tried again): ${(error as Error).message}`);
      },
    );
  }

  /** Stops the timer and closes the worker's connection (before the store closes its own). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.worker.close();
  }

  #fallBack(why: string): void {
    try {
      this.db.exec(`PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    } catch { /* the store reports its own failures */ }
    this.onProblem(`WAL checkpoints are back on the message path: ${why}`);
  }
}

/** Lets the process exit while the timer is pending (Node, Bun and Deno timers all allow it). */
function unref(timer: ReturnType<typeof setInterval>): void {
  const t = timer as unknown as { unref?: () => void } | number;
  if (typeof t === "object" && t?.unref) t.unref();
  else if (typeof t === "number" && "Deno" in globalThis) {
    (globalThis as unknown as { Deno: { unrefTimer(id: number): void } }).Deno.unrefTimer(t);
  }
}
