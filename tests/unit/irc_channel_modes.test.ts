/**
 * The pure parts of IRC accounts and channel modes: MODE lines into hub
 * changes, ban masks both ways, the MODE line for a `mode` event, and SASL
 * PLAIN payloads.
 */
import { describe, expect, test } from "bun:test";
import { hubMask, ircMask, modeDiff, modeIsParams, parseModeChanges } from "../../lib/dialect/irc/channel_modes.ts";
import { decodePlain } from "../../lib/dialect/irc/sasl.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("IRC channel modes", () => {
  test("a MODE line becomes one flag change for i/k/t, then op and ban changes in order", () => {
    expect(parseModeChanges("+itk-o+b", ["sesame", "bob", "eve!*@*"])).toEqual([
      { kind: "flags", invite_only: true, topic_lock: true, key: "sesame" },
      { kind: "op", on: false, nick: "bob" },
      { kind: "ban", on: true, mask: "nick:eve" },
    ]);
    expect(parseModeChanges("-k", ["whatever"])).toEqual([{ kind: "flags", key: "" }]);
    expect(parseModeChanges("b", [])).toEqual([{ kind: "list" }]);
    expect(parseModeChanges("+n", [])).toEqual([]);
    expect(parseModeChanges("+kx", [])).toEqual([{ kind: "need_param", letter: "k" }, { kind: "unknown", letter: "x" }]);
  });

  test("ban masks: nick!*@* and $a: map to the hub's nick: and account:, patterns and hosts are refused", () => {
    expect(hubMask("Bob!*@*")).toBe("nick:Bob");
    expect(hubMask("bob!*@tcpchat")).toBe("nick:bob");
    expect(hubMask("bob")).toBe("nick:bob");
    expect(hubMask("$a:alice")).toBe("account:alice");
    expect(hubMask("account:alice")).toBe("account:alice");
    expect(hubMask("*!*@*")).toMatchObject({ problem: expect.stringContaining("not a pattern") });
    expect(hubMask("bo*")).toMatchObject({ problem: expect.stringContaining("not a pattern") });
    expect(hubMask("bob!*@10.0.0.1")).toMatchObject({ problem: expect.stringContaining("no hosts") });
    expect(ircMask("nick:bob")).toBe("bob!*@*");
    expect(ircMask("account:alice")).toBe("$a:alice");
  });

  test("a mode event shows what changed from the modes last seen; the key stays hidden unless it is the setter's", () => {
    const none = { invite_only: false, key: false, topic_lock: true };
    expect(modeDiff(none, { invite_only: true, key: false, topic_lock: false })).toEqual(["+i-t"]);
    expect(modeDiff(none, { ...none, key: true })).toEqual(["+k", "*"]);
    expect(modeDiff(none, { ...none, key: true }, "sesame")).toEqual(["+k", "sesame"]);
    expect(modeDiff({ ...none, key: true }, none)).toEqual(["-k", "*"]);
    expect(modeDiff(none, none)).toEqual([]);
    expect(modeDiff(undefined, { invite_only: true, key: false, topic_lock: true })).toEqual(["+it"]);
    expect(modeIsParams({ invite_only: true, key: true, topic_lock: true })).toEqual(["+iknt", "*"]);
  });
});

describe("SASL PLAIN", () => {
  test("decodes authzid NUL authcid NUL password; refuses another authzid, bad base64 and missing parts", () => {
    expect(decodePlain(b64("\0alice\0pw"))).toEqual({ authzid: "", authcid: "alice", password: "pw" });
    expect(decodePlain(b64("alice\0alice\0pw"))).toMatchObject({ authcid: "alice" });
    expect(decodePlain(b64("root\0alice\0pw"))).toMatchObject({ problem: expect.stringContaining("authzid") });
    expect(decodePlain("!!!")).toEqual({ problem: "not base64" });
    expect(decodePlain(b64("alice\0pw"))).toMatchObject({ problem: expect.stringContaining("NUL") });
    expect(decodePlain(b64("\0\0pw"))).toMatchObject({ problem: expect.stringContaining("empty") });
    expect(decodePlain(btoa("\0a\0\xff"))).toEqual({ problem: "not UTF-8" });
  });
});
