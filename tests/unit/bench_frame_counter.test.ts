import { describe, expect, test } from "bun:test";
import { FrameCounter, ircMsgOffsets, msgTextOffset } from "../../lib/bench/frame_counter.ts";
import { LatencyHistogram } from "../../lib/bench/histogram.ts";
import { PublishFrames } from "../../lib/bench/publish_frames.ts";
import { readStamp, STAMP_BYTES, writeStamp } from "../../lib/bench/stamp.ts";

const enc = new TextEncoder();

/** The server's msg frame for a bench message sent at `sentUs`, as the server writes it. */
function msgLine(room: string, from: string, sentUs: number, seq: number, textBytes = 40): string {
  const text = new Uint8Array(textBytes).fill(0x78);
  writeStamp(text, 0, sentUs);
  return JSON.stringify({ type: "msg", room, from, text: new TextDecoder().decode(text), seq, ts: 1_795_000_000_000 + seq }) + "\n";
}

const STREAM = [
  '{"type":"join","room":"bench-0","nick":"bs1"}\n',
  msgLine("bench-0", "bp0", 4800, 1),
  '{"type":"presence","nick":"x","status":"away"}\n',
  msgLine("bench-0", "bp0", 4900, 2),
  '{"type":"error","code":"rate_limited","message":"slow down","retry_after_ms":200}\n',
  msgLine("bench-0", "bp0", 5000, 3),
  '{"type":"bye","reason":"shutdown"}\n',
].join("");

function feedInPieces(counter: FrameCounter, bytes: Uint8Array, cuts: number[], nowUs: number): void {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    counter.feed(bytes.subarray(at, cut), nowUs);
    at = cut;
  }
}

describe("FrameCounter", () => {
  test("counts msg lines, and error and bye lines apart, keeping the first problem", () => {
    const counter = new FrameCounter(null, 0);
    counter.feed(enc.encode(STREAM), -1);
    expect([counter.msgs, counter.errors, counter.byes]).toEqual([3, 1, 1]);
    expect(counter.firstProblem).toStartWith('{"type":"error","code":"rate_limited"');
  });

  test("any split of the stream into two or three reads gives the same counts and latencies", () => {
    const bytes = enc.encode(STREAM);
    const offset = msgTextOffset("bench-0", "bp0");
    for (let i = 0; i <= bytes.length; i += 3) {
      for (let j = i; j <= bytes.length; j += 17) {
        const latency = new LatencyHistogram();
        const counter = new FrameCounter(latency, offset);
        feedInPieces(counter, bytes, [i, j], 5000);
        expect([counter.msgs, counter.errors, counter.byes]).toEqual([3, 1, 1]);
        expect(latency.count).toBe(3);
        expect([latency.percentile(0), latency.percentile(50), latency.percentile(100)]).toEqual([0, 100, 200]);
      }
    }
  });

  test("byte by byte works too", () => {
    const bytes = enc.encode(STREAM);
    const latency = new LatencyHistogram();
    const counter = new FrameCounter(latency, msgTextOffset("bench-0", "bp0"));
    feedInPieces(counter, bytes, Array.from({ length: bytes.length }, (_, i) => i), 5000);
    expect([counter.msgs, counter.errors, counter.byes, latency.count]).toEqual([3, 1, 1, 3]);
  });

  test("records latency only when given a receive time", () => {
    const latency = new LatencyHistogram();
    const counter = new FrameCounter(latency, msgTextOffset("bench-0", "bp0"));
    counter.feed(enc.encode(STREAM), -1);
    expect(latency.count).toBe(0);
    expect(counter.msgs).toBe(3);
  });

  test("finds the stamp by search when the text is not where expected (another sender, another layout)", () => {
    const latency = new LatencyHistogram();
    const counter = new FrameCounter(latency, msgTextOffset("bench-0", "bp0"));
    counter.feed(enc.encode(msgLine("bench-0", "somebody-else", 900, 9)), 1000);
    counter.feed(enc.encode('{"type":"msg","seq":4,"text":"@000000000850 moved","room":"bench-0"}\n'), 1000);
    expect(counter.msgs).toBe(2);
    expect([latency.percentile(0), latency.percentile(100)]).toEqual([100, 150]);
  });

  test("a msg without a stamp is counted without a latency", () => {
    const latency = new LatencyHistogram();
    const counter = new FrameCounter(latency, msgTextOffset("bench-0", "bp0"));
    counter.feed(enc.encode('{"type":"msg","room":"bench-0","from":"bp0","text":"hello","seq":1,"ts":1}\n'), 1000);
    expect([counter.msgs, latency.count]).toEqual([1, 0]);
  });

  test("lines that only look alike are not msgs", () => {
    const counter = new FrameCounter(null, 0);
    counter.feed(enc.encode('{"type":"msgs"}\n{"type":"ms"}\n"type":"msg"\n* bob joined\n{"type":"errors"}\n'), -1);
    expect([counter.msgs, counter.errors, counter.byes]).toEqual([0, 0, 0]);
  });
});

describe("PublishFrames and stamps", () => {
  test("a stamp reads back; anything else is -1", () => {
    const bytes = new Uint8Array(STAMP_BYTES + 2);
    writeStamp(bytes, 1, 987_654_321_012);
    expect(readStamp(bytes, 1)).toBe(987_654_321_012);
    expect(readStamp(bytes, 0)).toBe(-1);
    expect(readStamp(bytes, 3)).toBe(-1);
    expect(readStamp(bytes, 1, STAMP_BYTES)).toBe(-1);
  });

  test("a batch is that many msg frames for the room, text of the asked size, each stamped", () => {
    const frames = new PublishFrames("bench-7", 100, 8);
    const lines = new TextDecoder().decode(frames.take(5, 42_000)).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      const frame = JSON.parse(line);
      expect(frame).toEqual({ type: "msg", room: "bench-7", text: expect.any(String) });
      expect(frame.text).toHaveLength(100);
      expect(frame.text.slice(0, STAMP_BYTES)).toBe("@000000042000");
    }
    expect(frames.take(100, 1).length).toBe(8 * frames.frameBytes);
  });

  test("an IRC subscriber's counter counts PRIVMSG lines from the publisher and ERROR, and reads the stamp", () => {
    const { commandAt, textAt } = ircMsgOffsets("bench-0", "bp0");
    const latency = new LatencyHistogram();
    const counter = new FrameCounter(latency, textAt, commandAt);
    const privmsg = (sentUs: number) => {
      const text = new Uint8Array(40).fill(0x78);
      writeStamp(text, 0, sentUs);
      return `:bp0!bp0@tcpchat PRIVMSG #bench-0 :${new TextDecoder().decode(text)}\r\n`;
    };
    const stream = enc.encode([
      ":tcpchat 353 bs1 = #bench-0 :bs1 bp0\r\n",
      privmsg(4800),
      ":bs2!bs2@tcpchat JOIN #bench-0\r\n",
      privmsg(4900),
      "PING :123\r\n",
      "ERROR :Closing Link: Server shutting down\r\n",
    ].join(""));
    feedInPieces(counter, stream, [7, 60, 61, 130], 5000);
    expect([counter.msgs, counter.errors, counter.byes]).toEqual([2, 0, 1]);
    expect(counter.firstProblem).toStartWith("ERROR :Closing Link");
    expect(latency.summary().samples).toBe(2);
    expect(latency.summary().max_us).toBeGreaterThanOrEqual(199);
  });
});
