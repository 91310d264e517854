/**
 * Property tests for the line splitter: whatever the bytes and however the
 * network cuts them into chunks, the splitter yields the same lines as a
 * plain reference model, one `frame_too_large` per overlong line, and never
 * holds more than `max_frame + 1` bytes.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LineSplitter } from "../../lib/protocol/line_splitter.ts";
import { chunkAt } from "../../scripts/fuzz.ts";

const LF = 0x0a;
const CR = 0x0d;

/** What the splitter reports: a line (as bytes in hex) or "!" for an overlong line. */
type SplitEvent = string;

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Feeds `chunks` to a fresh splitter, checking the buffer bound after every push. */
function split(maxFrame: number, chunks: Uint8Array[]): SplitEvent[] {
  const splitter = new LineSplitter(maxFrame);
  const events: SplitEvent[] = [];
  const handler = {
    onLine(line: Uint8Array) {
      expect(line.length).toBeGreaterThan(0);
      expect(line.length).toBeLessThanOrEqual(maxFrame);
      expect(line.includes(LF)).toBe(false);
      events.push(hex(line));
    },
    onTooLarge: () => events.push("!"),
  };
  for (const chunk of chunks) {
    splitter.push(chunk, handler);
    expect(splitter.bufferedBytes).toBeLessThanOrEqual(maxFrame + 1);
  }
  return events;
}

/**
 * The reference: split the whole input on LF, drop one CR before each LF,
 * skip empty lines, and report each line over `maxFrame` once. An unfinished
 * last line is reported as soon as it is known to be too long: past max+1
 * bytes, or at max+1 without a final CR (a CR there may still be dropped).
 */
function model(maxFrame: number, bytes: Uint8Array): SplitEvent[] {
  const events: SplitEvent[] = [];
  let start = 0;
  for (let lf = bytes.indexOf(LF); lf >= 0; lf = bytes.indexOf(LF, start)) {
    let end = lf;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end - start > maxFrame) events.push("!");
    else if (end > start) events.push(hex(bytes.subarray(start, end)));
    start = lf + 1;
  }
  const tail = bytes.length - start;
  if (tail > maxFrame + 1 || (tail === maxFrame + 1 && bytes[bytes.length - 1] !== CR)) events.push("!");
  return events;
}

/** Bytes rich in what matters to a splitter: LF, CR, and runs that reach the bound. */
const streamBytes = fc
  .array(
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(LF, CR) },
      { weight: 6, arbitrary: fc.constant(0x61) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    { maxLength: 300 },
  )
  .map((a) => Uint8Array.from(a));

const cutPoints = fc.array(fc.nat(), { maxLength: 40 });
const maxFrame = fc.integer({ min: 1, max: 24 });

describe("LineSplitter properties", () => {
  test("any sequence of valid lines, chunked at arbitrary points, yields exactly those lines", () => {
    const line = (max: number) =>
      fc.tuple(
        fc.uint8Array({ minLength: 1, maxLength: max }).map((b) => b.map((x) => (x === LF ? 0x20 : x))),
        fc.boolean(),
        fc.nat({ max: 2 }),
      );
    fc.assert(
      fc.property(
        maxFrame.chain((max) => fc.tuple(fc.constant(max), fc.array(line(max), { maxLength: 20 }), cutPoints)),
        ([max, lines, cuts]) => {
          const parts: number[] = [];
          const expected: SplitEvent[] = [];
          for (const [bytes, crlf, blanks] of lines) {
            // A line that ends in CR keeps it only when a CRLF follows (the splitter drops one CR).
            const useCrlf = crlf || bytes[bytes.length - 1] === CR;
            parts.push(...bytes, ...(useCrlf ? [CR, LF] : [LF]));
            for (let i = 0; i < blanks; i++) parts.push(...(crlf ? [CR, LF] : [LF])); // ignored empty lines
            expected.push(hex(bytes));
          }
          expect(split(max, chunkAt(Uint8Array.from(parts), cuts))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("arbitrary bytes in arbitrary chunks match the reference model: one error per overlong line, bounded buffer", () => {
    fc.assert(
      fc.property(maxFrame, streamBytes, cutPoints, (max, bytes, cuts) => {
        expect(split(max, chunkAt(bytes, cuts))).toEqual(model(max, bytes));
      }),
      { numRuns: 2000 },
    );
  });

  test("a stream with every byte value, fed one byte at a time or whole, never throws and agrees", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.uint8Array({ maxLength: 400 }), (max, bytes) => {
        const single = Array.from(bytes, (b) => Uint8Array.of(b));
        expect(split(max, single)).toEqual(split(max, [bytes]));
        expect(split(max, [bytes])).toEqual(model(max, bytes));
      }),
      { numRuns: 500 },
    );
  });

  test("after an overlong line is reported, the next LF starts afresh whatever the chunking", () => {
    fc.assert(
      fc.property(maxFrame, fc.nat({ max: 100 }), streamBytes, cutPoints, (max, extra, rest, cuts) => {
        const overlong = new Uint8Array(max + 2 + extra).fill(0x62);
        const bytes = Uint8Array.from([...overlong, LF, ...rest]);
        const events = split(max, chunkAt(bytes, cuts));
        expect(events[0]).toBe("!");
        expect(events.slice(1)).toEqual(model(max, rest));
      }),
      { numRuns: 500 },
    );
  });
});
