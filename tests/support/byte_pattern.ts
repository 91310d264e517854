/**
 * A position-dependent byte stream for transfer tests: any lost, duplicated or
 * reordered chunk shows up as a mismatch at a known offset.
 *
 * @module
 */

/** Byte `i` of the pattern; its period is 2^24 bytes. */
export function patternByte(i: number): number {
  return (i ^ (i >>> 8) ^ (i >>> 16)) & 0xff;
}

/** `length` pattern bytes starting at stream offset `start`. */
export function patternBytes(start: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(start + i);
  return bytes;
}

/** Offset of the first byte of `chunk` (at stream offset `start`) that breaks the pattern, or -1. */
export function patternMismatch(chunk: Uint8Array, start: number): number {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== patternByte(start + i)) return start + i;
  return -1;
}
