import { describe, expect, test } from "bun:test";
import { nickKey, nickProblem, roomName } from "../../lib/protocol/names.ts";

describe("nicks", () => {
  test("letters and digits of any script plus _ - . are valid", () => {
    for (const nick of ["alice", "Bob_2", "a.b-c", "Ünsal", "José", "李雷", "Дмитрий", "x".repeat(32)]) {
      expect(nickProblem(nick)).toBeUndefined();
    }
  });

  test("Bob, bob and fullwidth ｂｏｂ are the same nick", () => {
    expect(nickKey("Bob")).toBe(nickKey("bob"));
    expect(nickKey("ｂｏｂ")).toBe(nickKey("bob"));
    expect(nickKey("alice")).not.toBe(nickKey("bob"));
  });

  test("controls, spaces, bidi overrides, zero-width characters and overlong nicks are refused", () => {
    for (const nick of ["", "a b", "evil\u202Eexe", "zero\u200Bwidth", "bell\u0007", "tab\t", "x".repeat(33), "😀", "\u0301"]) {
      expect(nickProblem(nick)).toBeString();
    }
  });

  test("length is counted in code points, not UTF-16 units", () => {
    expect(nickProblem("𝐀".repeat(32))).toBeUndefined();
    expect(nickProblem("𝐀".repeat(33))).toContain("at most 32");
  });
});

describe("rooms", () => {
  test("a leading # is not part of the name", () => {
    expect(roomName("#lobby")).toBe("lobby");
    expect(roomName("dev.ops-1_x")).toBe("dev.ops-1_x");
  });
  test("other characters and lengths are refused", () => {
    for (const bad of ["", "#", "Lobby", "a b", "x".repeat(65), "##x", "é"]) expect(roomName(bad)).toBeUndefined();
  });
});
