import { describe, expect, test } from "bun:test";
import { defaultSettings, parseSetting } from "../../lib/config/settings.ts";
import { operatorKeys } from "../../lib/hub/room_modes.ts";
import { nickKey } from "../../lib/protocol/names.ts";

describe("account settings", () => {
  test("defaults: registration open, passwords of 8 or more, no operators", () => {
    expect(defaultSettings()).toMatchObject({ registration: "open", password_min_length: 8, operators: "" });
  });

  test("each is validated with a clear error", () => {
    expect(parseSetting("registration", "closed")).toBe("closed");
    expect(() => parseSetting("registration", "maybe")).toThrow("registration: must be open or closed");
    expect(parseSetting("password_min_length", "12")).toBe(12);
    expect(() => parseSetting("password_min_length", "0")).toThrow("must be 1 to 256");
    expect(() => parseSetting("password_min_length", "257")).toThrow("must be 1 to 256");
    expect(parseSetting("operators", "alice, Bob")).toBe("alice, Bob");
    expect(() => parseSetting("operators", "alice,,bob")).toThrow("account names separated by commas");
    expect(() => parseSetting("operators", "al ice")).toThrow("account names separated by commas");
    expect(() => parseSetting("operators", "x".repeat(33))).toThrow("account names separated by commas");
  });

  test("operators are compared by nick key", () => {
    expect([...operatorKeys(" Alice ,BOB")]).toEqual([nickKey("alice"), nickKey("bob")]);
    expect(operatorKeys("").size).toBe(0);
  });
});
