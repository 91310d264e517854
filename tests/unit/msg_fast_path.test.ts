/**
 * The `msg` fast path must be invisible: for any msg-shaped value, the
 * decoder answers exactly what the valibot schema alone answers (same frame,
 * same key order; same error code, message and field).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import * as v from "valibot";
import { CLIENT_FRAME_SCHEMAS, validateClientFrame } from "../../lib/protocol/client_frames.ts";
import { fastMsg } from "../../lib/protocol/msg_fast_path.ts";

/** The schema's own verdict, as validateClientFrame reported it before the fast path. */
function schemaVerdict(value: Record<string, unknown>): unknown {
  const result = v.safeParse(CLIENT_FRAME_SCHEMAS.msg, value);
  return result.success ? { ok: true, frame: result.output } : { ok: false };
}

const anyValue = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.stringMatching(/^#?[a-z0-9_.\-]{0,66}$/),
  fc.constantFrom("", "lobby", "#lobby", "Lobby", "a".repeat(64), "a".repeat(65), "caf\u00e9", "\ud800"),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 2 }),
);

const msgShaped = fc.record(
  { room: anyValue, text: anyValue, id: anyValue, extra: anyValue },
  { requiredKeys: [] },
).map((fields) => ({ type: "msg", ...fields }));

describe("msg fast path", () => {
  test("accepts only what the schema accepts, and builds the very same frame", () => {
    fc.assert(
      fc.property(msgShaped, (value) => {
        const fast = fastMsg(value);
        const verdict = schemaVerdict(value) as { ok: boolean; frame?: unknown };
        if (fast !== undefined) {
          expect(verdict.ok).toBe(true);
          expect(fast).toEqual(verdict.frame as typeof fast);
          expect(Object.keys(fast)).toEqual(Object.keys(verdict.frame as object));
        }
        // Whatever path it takes, the decoder's answer is the schema's.
        const decoded = validateClientFrame(value);
        expect(decoded.ok).toBe(verdict.ok);
        if (decoded.ok) expect(decoded.frame).toEqual(verdict.frame as typeof decoded.frame);
      }),
      { numRuns: 3000 },
    );
  });

  test("takes the common frames a client sends", () => {
    expect(fastMsg({ type: "msg", room: "lobby", text: "hi" })).toEqual({ type: "msg", room: "lobby", text: "hi" });
    expect(Object.keys(fastMsg({ type: "msg", id: "7", room: "a.b-c_1", text: "hi" })!)).toEqual(["type", "id", "room", "text"]);
  });

  test("leaves to the schema what it must answer with an error or rewrite", () => {
    expect(fastMsg({ type: "msg", room: "#lobby", text: "hi" })).toBeUndefined(); // the schema strips the #
    expect(fastMsg({ type: "msg", room: "lobby", text: "" })).toBeUndefined();
    expect(fastMsg({ type: "msg", room: "lobby", text: "\ud800" })).toBeUndefined();
    expect(fastMsg({ type: "msg", room: "lobby", text: "hi", id: "x".repeat(65) })).toBeUndefined();
    expect(validateClientFrame({ type: "msg", room: "lobby", text: "" })).toEqual({
      ok: false,
      problem: { code: "invalid", message: "text must not be empty", field: "text", id: undefined },
    });
  });
});
