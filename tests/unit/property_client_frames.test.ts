/**
 * Property tests for the JSON frame decoder, alone and behind the line
 * splitter as the server runs it: valid frames survive any chunking intact,
 * and nothing a peer sends makes the decoder throw or answer a line twice.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CLIENT_FRAME_SCHEMAS, type ClientFrame, decodeJsonFrame, type DecodeResult } from "../../lib/protocol/client_frames.ts";
import { LineSplitter } from "../../lib/protocol/line_splitter.ts";
import { chunkAt } from "../../scripts/fuzz.ts";

const enc = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const FRAME_TYPES = Object.keys(CLIENT_FRAME_SCHEMAS);

/** Any string whose UTF-16 length is at most `max` (code points of every plane, lone surrogates included). */
const str = (max: number, min = 0) =>
  fc.string({ unit: "binary", minLength: min, maxLength: max }).filter((s) => s.length <= max && s.length >= min);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const roomWire = fc.stringMatching(/^#?[a-z0-9_.\-]{1,64}$/);
const pingToken = fc.oneof(str(20), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)));

/** A valid frame as a client would write it, and what the decoder must return for it. */
interface Sample {
  wire: Record<string, unknown>;
  expected: ClientFrame;
}

/** Builds a sample from fields; undefined fields are left out of both, and `#` is dropped from rooms. */
function sample(type: string, fields: Record<string, unknown>): Sample {
  const wire: Record<string, unknown> = { type };
  const expected: Record<string, unknown> = { type };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    wire[key] = value;
    expected[key] = key === "room" ? (value as string).replace(/^#/, "") : value;
  }
  return { wire, expected: expected as unknown as ClientFrame };
}

const id = optional(str(64));
const validFrame: fc.Arbitrary<Sample> = fc.oneof(
  fc.record({ id, nick: str(40), password: optional(str(256)), client: optional(str(256)) }).map((f) => sample("hello", f)),
  fc.record({ id, nick: str(40) }).map((f) => sample("nick", f)),
  fc.record({ id, room: roomWire, since: optional(fc.nat()) }).map((f) => sample("join", f)),
  fc.record({ id, room: roomWire }).map((f) => sample("leave", f)),
  fc.record({ id, room: roomWire, text: str(300, 1) }).map((f) => sample("msg", f)),
  fc.record({ id, to: str(40), text: str(300, 1) }).map((f) => sample("dm", f)),
  fc.record({ id, room: roomWire }).map((f) => sample("who", f)),
  fc.record({ id }).map((f) => sample("rooms", f)),
  fc.record({ id, status: fc.constantFrom("online", "away"), note: optional(str(200)) }).map((f) => sample("status", f)),
  fc.record({ id, t: optional(pingToken) }).map((f) => sample("ping", f)),
  fc.record({ id, t: optional(pingToken) }).map((f) => sample("pong", f)),
  fc.record({ id, reason: optional(str(200)) }).map((f) => sample("quit", f)),
);

/** Unknown fields a client may add; the decoder drops them. */
const extraFields = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => !["type", "id", "nick", "password", "client", "room", "since", "text", "to", "status", "note", "t", "reason",
    // Fields of the history, account and moderation frames: known to some frame type, so not "unknown".
    "before", "after", "limit", "key", "email", "new_password", "topic", "invite_only", "topic_lock", "mask"].includes(k)),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 3 },
);

/** The wire line for a sample: fields in shuffled order, with unknown fields mixed in. */
const wireLine = fc
  .tuple(validFrame, extraFields, fc.nat())
  .map(([s, extra, rotate]) => {
    const entries = [...Object.entries(s.wire), ...Object.entries(extra)];
    const k = rotate % entries.length;
    const line = JSON.stringify(Object.fromEntries([...entries.slice(k), ...entries.slice(0, k)]));
    return { line, expected: s.expected };
  });

/** What the server does with a byte stream on a JSON connection: one result per line, one error per overlong line. */
function decodeStream(chunks: Uint8Array[], maxFrame: number): (DecodeResult | "frame_too_large")[] {
  const out: (DecodeResult | "frame_too_large")[] = [];
  const splitter = new LineSplitter(maxFrame);
  const handler = {
    onLine(line: Uint8Array) {
      let text: string;
      try {
        text = utf8.decode(line);
      } catch {
        out.push({ ok: false, problem: { code: "bad_frame", message: "not UTF-8" } });
        return;
      }
      out.push(decodeJsonFrame(text));
    },
    onTooLarge: () => out.push("frame_too_large"),
  };
  for (const chunk of chunks) splitter.push(chunk, handler);
  return out;
}

/** A decode result is one of the documented shapes. */
function expectWellFormed(result: DecodeResult): void {
  if (result.ok) {
    expect(FRAME_TYPES).toContain(result.frame.type);
    return;
  }
  const { code, message, field, id } = result.problem;
  expect(["bad_frame", "invalid"]).toContain(code);
  expect(typeof message).toBe("string");
  expect(message.length).toBeGreaterThan(0);
  if (code === "invalid") expect(typeof field === "string" && field.length > 0).toBe(true);
  if (id !== undefined) expect(typeof id === "string" && id.length <= 64).toBe(true);
}

describe("JSON frame decoder properties", () => {
  test("any sequence of valid frames, with LF or CRLF and blank lines, chunked at arbitrary points, decodes to exactly those frames", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(wireLine, fc.constantFrom("\n", "\r\n", "\n\n", "\r\n\r\n")), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lines, cuts) => {
          const bytes = enc.encode(lines.map(([l, end]) => l.line + end).join(""));
          const decoded = decodeStream(chunkAt(bytes, cuts), 16384);
          expect(decoded).toEqual(lines.map(([l]) => ({ ok: true, frame: l.expected })));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("arbitrary strings never throw and always give a well-formed result", () => {
    fc.assert(
      fc.property(fc.oneof(str(200), fc.json(), fc.string({ unit: "grapheme-ascii" })), (line) => {
        expectWellFormed(decodeJsonFrame(line));
      }),
      { numRuns: 2000 },
    );
  });

  test("any JSON value: a non-object is invalid at field type; an object is a frame or names the field it breaks", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = decodeJsonFrame(JSON.stringify(value));
        expectWellFormed(result);
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          expect(result).toMatchObject({ ok: false, problem: { code: "invalid", field: "type" } });
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("a valid frame with one field replaced or removed is a frame or invalid naming that field (or type), keeping its id", () => {
    const mutation = fc.tuple(validFrame, fc.nat(), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }));
    fc.assert(
      fc.property(mutation, ([s, pick, value]) => {
        const keys = Object.keys(s.wire);
        const key = keys[pick % keys.length];
        const wire = { ...s.wire, [key]: value };
        if (value === undefined) delete wire[key];
        const result = decodeJsonFrame(JSON.stringify(wire));
        expectWellFormed(result);
        if (result.ok) return;
        expect(result.problem.code).toBe("invalid");
        // A replaced type may name another frame type, whose own fields are then missing.
        if (key !== "type") expect([key, "type"]).toContain(result.problem.field!.split(".")[0]);
        const frameId = wire.id;
        if (typeof frameId === "string" && frameId.length <= 64) expect(result.problem.id).toBe(frameId);
      }),
      { numRuns: 1000 },
    );
  });

  test("arbitrary bytes in arbitrary chunks: every line gets exactly one answer, every overlong line exactly one error", () => {
    const bytes = fc.array(
      fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(0x0a, 0x0d, 0x7b, 0x7d, 0x22, 0xff) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      { maxLength: 300 },
    ).map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), bytes, fc.array(fc.nat(), { maxLength: 20 }), (max, input, cuts) => {
        const decoded = decodeStream(chunkAt(input, cuts), max);
        const whole = decodeStream([input], max);
        expect(decoded).toEqual(whole);
        for (const result of decoded) if (result !== "frame_too_large") expectWellFormed(result);
      }),
      { numRuns: 1000 },
    );
  });

  test("absurd nesting and size never throw", () => {
    for (const line of [
      "[".repeat(200_000),
      '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000),
      '{"type":"ping","t":' + "[".repeat(100_000) + "]".repeat(100_000) + "}",
      '{"type":"msg","room":"lobby","text":"' + "x".repeat(1_000_000) + '"}',
    ]) {
      expectWellFormed(decodeJsonFrame(line));
    }
  });
});
