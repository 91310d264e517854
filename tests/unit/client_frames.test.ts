import { describe, expect, test } from "bun:test";
import { decodeJsonFrame } from "../../lib/protocol/client_frames.ts";

const problem = (line: string) => {
  const r = decodeJsonFrame(line);
  return r.ok ? null : r.problem;
};

describe("decodeJsonFrame", () => {
  test("valid frames decode; unknown fields are dropped; # is stripped from rooms", () => {
    expect(decodeJsonFrame('{"type":"join","room":"#dev","since":3,"extra":1,"id":"a"}')).toEqual({
      ok: true,
      frame: { type: "join", room: "dev", since: 3, id: "a" },
    });
  });

  test("JSON that does not parse is bad_frame", () => {
    expect(problem("{nope")).toMatchObject({ code: "bad_frame" });
  });

  test("schema errors are invalid and name the field; the id is kept for the answer", () => {
    expect(problem('{"type":"join","room":"Bad Room","id":"x"}')).toMatchObject({
      code: "invalid",
      field: "room",
      id: "x",
    });
    expect(problem('{"type":"msg","room":"a"}')).toMatchObject({ code: "invalid", field: "text", message: "text is required" });
    expect(problem('{"type":"status","status":"busy"}')).toMatchObject({ field: "status" });
    expect(problem('{"type":"join","room":"a","since":-1}')).toMatchObject({ field: "since" });
    expect(problem('{"type":"teleport"}')).toMatchObject({ field: "type" });
    expect(problem('{"room":"a"}')).toMatchObject({ field: "type" });
    expect(problem("[1,2]")).toMatchObject({ code: "invalid", field: "type" });
    expect(problem('{"type":"ping","id":"' + "x".repeat(65) + '"}')).toMatchObject({ field: "id" });
  });

  test("__proto__ keys neither pollute nor pass through", () => {
    const r = decodeJsonFrame('{"type":"hello","nick":"a","__proto__":{"polluted":true},"constructor":{"x":1}}');
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (r.ok) expect(Object.keys(r.frame)).toEqual(["type", "nick"]);
    expect(problem('{"__proto__":{"type":"hello"}}')).toMatchObject({ field: "type" });
  });

  test("deeply nested JSON is an error, not a crash", () => {
    const deep = "{\"type\":\"ping\",\"t\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    expect(problem(deep)?.code).toMatch(/bad_frame|invalid/);
  });
});
