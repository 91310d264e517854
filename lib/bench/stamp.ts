/**
 * The send-time stamp that `tcpchat bench` puts at the start of every message
 * text: `@` and 12 decimal digits of microseconds on the bench's monotonic
 * clock. Subscribers read it back by position, so end-to-end latency needs no
 * JSON parsing on the receive path.
 *
 * @module
 */

/** Bytes of a stamp: `@` and {@linkcode STAMP_DIGITS} digits. */
export const STAMP_BYTES = 13;
/** Decimal digits in a stamp (microseconds: enough for 11 days). */
export const STAMP_DIGITS = 12;

const AT = 0x40;
const ZERO = 0x30;
const ORIGIN_MS = performance.now();

/**
 * Microseconds since this module was loaded, on a monotonic clock shared by
 * publishers and subscribers of one bench process.
 */
export function nowMicros(): number {
  return Math.round((performance.now() - ORIGIN_MS) * 1000);
}

/**
 * Writes the stamp for `micros` into `dst` at `at` (13 bytes).
 *
 * @example
 * ```ts
 * const text = new Uint8Array(13);
 * writeStamp(text, 0, 1234); // "@000000001234"
 * ```
 */
export function writeStamp(dst: Uint8Array, at: number, micros: number): void {
  dst[at] = AT;
  let value = micros;
  for (let i = at + STAMP_DIGITS; i > at; i--) {
    const next = Math.floor(value / 10);
    dst[i] = ZERO + value - next * 10;
    value = next;
  }
}

/**
 * The microseconds of the stamp at `src[at]`, or -1 if there is no whole stamp
 * there before `end` (default: the end of `src`).
 */
export function readStamp(src: Uint8Array, at: number, end: number = src.length): number {
  if (at < 0 || at + STAMP_BYTES > end || src[at] !== AT) return -1;
  let value = 0;
  for (let i = at + 1; i <= at + STAMP_DIGITS; i++) {
    const digit = src[i]! - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
