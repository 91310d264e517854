/** The sender's acknowledgement of a msg is encoded from the broadcast's bytes; it must equal a fresh encoding. */
import { describe, expect, test } from "bun:test";
import { encodeJsonFrame, type MsgFrame, withId } from "../../lib/protocol/server_frames.ts";

const decoder = new TextDecoder();
const fresh = (frame: object) => JSON.stringify(frame) + "\n";

describe("encodeJsonFrame of a msg acknowledgement", () => {
  const texts = ["hello", 'quote " and \\ backslash', "tab\tnew\nline \u0001", "héllo wörld ✓ 🎉", "\ud800 lone"];
  const ids = ["1", 'a"b', "ünï", "🎉", ""];
  for (const text of texts) {
    test(`is byte for byte what JSON.stringify gives (${JSON.stringify(text)})`, () => {
      for (const id of ids) {
        const msg: MsgFrame = { type: "msg", room: "r", from: "ann", text, seq: 7, ts: 1_700_000_000_000 };
        const broadcast = encodeJsonFrame(msg);
        const ack = encodeJsonFrame(withId(msg, id));
        expect(decoder.decode(broadcast)).toBe(fresh(msg));
        expect(decoder.decode(ack)).toBe(fresh({ ...msg, id }));
      }
    });
  }

  test("an acknowledgement encoded after another msg, or before its own broadcast, is encoded afresh and still right", () => {
    const a: MsgFrame = { type: "msg", room: "r", from: "ann", text: "a", seq: 1, ts: 1 };
    const b: MsgFrame = { type: "msg", room: "r", from: "bob", text: "b", seq: 2, ts: 2 };
    const ackA = withId(a, "x");
    encodeJsonFrame(b);
    expect(decoder.decode(encodeJsonFrame(ackA))).toBe(fresh({ ...a, id: "x" }));
    const ackB = withId(b, "y");
    expect(decoder.decode(encodeJsonFrame(ackB))).toBe(fresh({ ...b, id: "y" }));
  });
});
