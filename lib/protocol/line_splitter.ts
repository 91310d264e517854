/**
 * Splits a byte stream into LF-terminated lines with a hard bound on what it
 * holds. A line longer than `maxFrameBytes` is reported once, as soon as it
 * is known to be too long, and then skipped up to its LF without being kept,
 * so memory never grows with what a peer sends.
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;

/** Receives what {@linkcode LineSplitter.push} finds. */
export interface LineHandler {
  /** A complete, non-empty line without its LF (and without a CR before it); valid only during the call. */
  onLine(line: Uint8Array): void;
  /** A line passed `maxFrameBytes`; it is being discarded up to its LF. */
  onTooLarge(): void;
}

/**
 * Incremental line splitter.
 *
 * @example
 * ```ts
 * const s = new LineSplitter(16384);
 * s.push(bytes, { onLine: (l) => handle(l), onTooLarge: () => reject() });
 * ```
 */
export class LineSplitter {
  /** Start of a line that has not ended yet; allocated only while one is pending. */
  #partial: Uint8Array | null = null;
  #partialLength = 0;
  #discarding = false;

  /** `maxFrameBytes` bounds a line, LF and a trailing CR excluded. */
  constructor(readonly maxFrameBytes: number) {}

  /** Whether it holds nothing: no unfinished line, no overlong line being skipped (a fresh splitter would do the same). */
  get idle(): boolean {
    return this.#partialLength === 0 && !this.#discarding;
  }

  /** Bytes held for an unfinished line (at most `maxFrameBytes + 1`). */
  get bufferedBytes(): number {
    return this.#partialLength;
  }

  /** Feeds one chunk; calls `handler` for each line or overlong line it completes. */
  push(chunk: Uint8Array, handler: LineHandler): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        this.#keepPartial(chunk, start, handler);
        return;
      }
      if (this.#discarding) {
        this.#discarding = false;
      } else if (this.#partialLength === 0) {
        this.#emit(chunk.subarray(start, lf), handler);
      } else {
        const piece = chunk.subarray(start, lf);
        // The pending part is at most max+1 bytes; #emit settles the exact bound once the CR is known.
        if (this.#partialLength + piece.length > this.maxFrameBytes + 1) {
          handler.onTooLarge();
        } else {
          this.#append(piece);
          this.#emit(this.#partial!.subarray(0, this.#partialLength), handler);
        }
      }
      this.#reset();
      start = lf + 1;
    }
  }

  /** Whether a line of `length` bytes whose last byte is `last` exceeds the bound (a final CR is free). */
  #tooLong(length: number, last: number): boolean {
    return length > this.maxFrameBytes + 1 || (length === this.maxFrameBytes + 1 && last !== CR);
  }

  #emit(line: Uint8Array, handler: LineHandler): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end > this.maxFrameBytes) {
      handler.onTooLarge();
    } else if (end > 0) {
      handler.onLine(end === line.length ? line : line.subarray(0, end));
    }
  }

  #keepPartial(chunk: Uint8Array, start: number, handler: LineHandler): void {
    if (this.#discarding) return;
    const piece = chunk.subarray(start);
    const total = this.#partialLength + piece.length;
    // A pending line may end in a CR that the next chunk's LF makes legal, so
    // only a line past max+1 bytes, or at max+1 without a final CR, is known to be too long.
    if (this.#tooLong(total, piece[piece.length - 1])) {
      this.#reset();
      this.#discarding = true;
      handler.onTooLarge();
      return;
    }
    this.#append(piece);
  }

  #append(piece: Uint8Array): void {
    const needed = this.#partialLength + piece.length;
    if (!this.#partial || this.#partial.length < needed) {
      // Grow geometrically but never past the bound, so idle connections hold nothing.
      const capacity = Math.min(Math.max(needed, (this.#partial?.length ?? 0) * 2, 256), this.maxFrameBytes + 1);
      const grown = new Uint8Array(capacity);
      if (this.#partial) grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(piece, this.#partialLength);
    this.#partialLength = needed;
  }

  #reset(): void {
    this.#partialLength = 0;
    // Drop a large buffer so a one-off long line does not pin memory; keep a small one for reuse.
    if (this.#partial && this.#partial.length > 4096) this.#partial = null;
  }
}
