/**
 * A publisher's reusable send buffer: `capacity` copies of one `msg` frame,
 * built once. Sending `k` messages rewrites only their 13-byte stamps and
 * hands out the first `k` frames as one chunk, so a batch is one write and
 * costs no allocation.
 *
 * @module
 */

import { STAMP_BYTES, writeStamp } from "./stamp.ts";

/** The smallest text a stamp fits in. */
export const MIN_TEXT_BYTES = STAMP_BYTES;

/**
 * Frames of `{"type":"msg","room":ROOM,"text":"@<stamp>xxx…"}` plus LF, the
 * text `textBytes` long.
 *
 * @example
 * ```ts
 * const frames = new PublishFrames("bench0", 100, 64);
 * await conn.write(frames.take(16, nowMicros())); // 16 messages in one write
 * ```
 */
export class PublishFrames {
  /** Bytes of one frame, LF included. */
  readonly frameBytes: number;
  /** The most frames one {@linkcode take} returns. */
  readonly capacity: number;
  readonly #buffer: Uint8Array;
  readonly #stampAt: number;

  /** `textBytes` must be at least {@linkcode MIN_TEXT_BYTES}. */
  constructor(room: string, textBytes: number, capacity: number) {
    if (textBytes < MIN_TEXT_BYTES) throw new RangeError(`text must be at least ${MIN_TEXT_BYTES} bytes`);
    const head = `{"type":"msg","room":${JSON.stringify(room)},"text":"`;
    const frame = new TextEncoder().encode(`${head}${"x".repeat(textBytes)}"}\n`);
    this.frameBytes = frame.length;
    this.capacity = capacity;
    this.#stampAt = new TextEncoder().encode(head).length;
    this.#buffer = new Uint8Array(frame.length * capacity);
    for (let i = 0; i < capacity; i++) this.#buffer.set(frame, i * frame.length);
  }

  /**
   * The first `count` frames (at most `capacity`), stamped with `micros`. The
   * bytes stay valid until the next call: write them and await the write first.
   */
  take(count: number, micros: number): Uint8Array {
    const n = Math.min(count, this.capacity);
    const buffer = this.#buffer;
    writeStamp(buffer, this.#stampAt, micros);
    for (let i = 1; i < n; i++) {
      const at = i * this.frameBytes + this.#stampAt;
      buffer.copyWithin(at, this.#stampAt, this.#stampAt + STAMP_BYTES);
    }
    return buffer.subarray(0, n * this.frameBytes);
  }
}
