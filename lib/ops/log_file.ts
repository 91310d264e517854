/**
 * The log file: lines are buffered and appended in batches, one append in
 * flight at a time, through an injected `append` (the runtime layer's
 * `appendFile`). A failing disk never reaches the server: a failed batch is
 * dropped and counted, the first failure of a run of failures is reported,
 * the next try waits a little, and the buffer is bounded, so a full disk
 * costs at most that much memory and a few syscalls a second.
 * Each append opens the file by path, so a file that was deleted or rotated
 * away is simply created again.
 *
 * @module
 */

/** Appends bytes to the file at `path`, creating it; rejects on any error. */
export type AppendFn = (path: string, bytes: Uint8Array) => Promise<void>;

/** Lines waiting past this many characters are dropped (and counted) instead of kept. */
const MAX_BUFFERED_CHARS = 1024 * 1024;
/** After a failed append, lines are kept (up to the bound) and the next try waits this long. */
const RETRY_MS = 500;

const encoder = new TextEncoder();

/** Counters about the log file, for the metrics endpoint. */
export interface LogFileStats {
  /** Appends that failed. */
  errors: number;
  /** Lines lost to failed appends or a full buffer. */
  droppedLines: number;
}

/** A log file sink. */
export class LogFileWriter {
  readonly stats: LogFileStats = { errors: 0, droppedLines: 0 };
  #lines: string[] = [];
  #chars = 0;
  #writing: Promise<void> | null = null;
  #failing = false;

  constructor(
    /** The file; may be changed by a reload (the next batch goes to the new path). */
    public path: string,
    readonly append: AppendFn,
    /** Told when appends start failing (with the error) and when they work again (null). */
    readonly onTrouble: (path: string, error: Error | null) => void,
    readonly retryMs = RETRY_MS,
  ) {}

  /** Queues one line (with its newline). Never throws. */
  write(line: string): void {
    if (this.#chars + line.length > MAX_BUFFERED_CHARS) {
      this.stats.droppedLines++;
      return;
    }
    this.#lines.push(line);
    this.#chars += line.length;
    this.#writing ??= this.#drain();
  }

  /** Resolves once everything queued so far was written or dropped; at once while appends fail. */
  async flush(): Promise<void> {
    while (this.#writing && !this.#failing) await this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#lines.length > 0) {
      const lines = this.#lines;
      this.#lines = [];
      this.#chars = 0;
      try {
        await this.append(this.path, encoder.encode(lines.join("")));
        if (this.#failing) {
          this.#failing = false;
          this.onTrouble(this.path, null);
        }
      } catch (error) {
        this.stats.errors++;
        this.stats.droppedLines += lines.length;
        if (!this.#failing) {
          this.#failing = true;
          this.onTrouble(this.path, error as Error);
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      }
    }
    this.#writing = null;
  }
}
