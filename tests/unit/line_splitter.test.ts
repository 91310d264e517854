import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../lib/protocol/line_splitter.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds chunks and records what came out, with "!" for each overlong line. */
function run(max: number, chunks: (string | Uint8Array)[], splitter = new LineSplitter(max)): string[] {
  const out: string[] = [];
  const handler = { onLine: (l: Uint8Array) => out.push(dec.decode(l)), onTooLarge: () => out.push("!") };
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? enc.encode(chunk) : chunk, handler);
  return out;
}

describe("LineSplitter", () => {
  test("splits LF and CRLF lines and ignores empty lines", () => {
    expect(run(100, ["a\nb\r\n\n\r\nc\n"])).toEqual(["a", "b", "c"]);
  });

  test("every split point of a multi-line buffer yields the same lines", () => {
    const text = "hello\r\n{\"type\":\"msg\"}\nsecond line\n\nlast\r\n";
    const whole = run(100, [text]);
    expect(whole).toEqual(["hello", '{"type":"msg"}', "second line", "last"]);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        expect(run(100, [text.slice(0, i), text.slice(i, j), text.slice(j)])).toEqual(whole);
      }
    }
  });

  test("a line of exactly max bytes passes, with or without CR", () => {
    expect(run(5, ["12345\n", "12345\r\n"])).toEqual(["12345", "12345"]);
    expect(run(5, ["123", "45\r", "\n"])).toEqual(["12345"]);
  });

  test("a line of max+1 bytes is refused once and the next line still works", () => {
    expect(run(5, ["123456\nok\n"])).toEqual(["!", "ok"]);
    expect(run(5, ["123", "456", "\nok\n"])).toEqual(["!", "ok"]);
  });

  test("an endless line is reported as soon as it passes the bound and nothing is buffered", () => {
    const splitter = new LineSplitter(1024);
    const out = run(1024, [], splitter);
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const handler = { onLine: () => out.push("line"), onTooLarge: () => out.push("!") };
    for (let i = 0; i < 16; i++) {
      splitter.push(chunk, handler);
      expect(splitter.bufferedBytes).toBe(0);
    }
    expect(out).toEqual(["!"]);
    splitter.push(enc.encode("tail\nnext\n"), handler);
    expect(out).toEqual(["!", "line"]);
  });

  test("a partial line is held across chunks but never past max+1 bytes", () => {
    const splitter = new LineSplitter(10);
    const handler = { onLine: () => {}, onTooLarge: () => {} };
    splitter.push(enc.encode("0123456789"), handler);
    expect(splitter.bufferedBytes).toBe(10);
    splitter.push(enc.encode("\r"), handler);
    expect(splitter.bufferedBytes).toBe(11);
    splitter.push(enc.encode("x"), handler);
    expect(splitter.bufferedBytes).toBe(0);
  });
});

describe("LineSplitter.idle", () => {
  test("idle after whole lines, not while part of a line or an overlong line is pending", () => {
    const s = new LineSplitter(8);
    const handler = { onLine: () => {}, onTooLarge: () => {} };
    s.push(enc.encode("ab\ncd\n"), handler);
    expect(s.idle).toBe(true);
    s.push(enc.encode("ef"), handler);
    expect(s.idle).toBe(false);
    s.push(enc.encode("\n"), handler);
    expect(s.idle).toBe(true);
    s.push(enc.encode("x".repeat(20)), handler); // overlong: skipped up to its LF
    expect(s.idle).toBe(false);
    s.push(enc.encode("yy\n"), handler);
    expect(s.idle).toBe(true);
  });
});
