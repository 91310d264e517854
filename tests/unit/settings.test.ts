import { describe, expect, test } from "bun:test";
import { defaultSettings, parseSetting } from "../../lib/config/settings.ts";
import { parseSettingArgs, serveUsage } from "../../lib/cli/serve.ts";
import { resolveConfig } from "../../lib/config/sources.ts";

const settingsFromFlags = (args: string[]) => resolveConfig({ flags: parseSettingArgs(args, serveUsage()).flags }).settings;

describe("settings", () => {
  test("durations and sizes accept units; bare numbers are ms and bytes", () => {
    expect(parseSetting("heartbeat_interval", "30s")).toBe(30_000);
    expect(parseSetting("heartbeat_interval", "250ms")).toBe(250);
    expect(parseSetting("text_idle_timeout", "15m")).toBe(900_000);
    expect(parseSetting("heartbeat_interval", "1500")).toBe(1500);
    expect(parseSetting("max_pending", "1MiB")).toBe(1048576);
    expect(parseSetting("max_frame", "64KiB")).toBe(65536);
  });

  test("bad values name the setting and what was expected", () => {
    expect(() => parseSetting("port", "70000")).toThrow(/port/);
    expect(() => parseSetting("heartbeat_interval", "soon")).toThrow(/heartbeat_interval: expected a duration/);
    expect(() => parseSetting("max_connections", "1.5")).toThrow(/whole number/);
    expect(() => parseSetting("default_room", "Not A Room")).toThrow(/default_room/);
  });

  test("serve flags override defaults; --rate-per-s 0 and --default-room '' are allowed", () => {
    const s = settingsFromFlags(["--port", "0", "--rate-per-s", "0", "--default-room", "", "--max-frame", "1KiB"]);
    expect(s).toEqual({ ...defaultSettings(), port: 0, rate_per_s: 0, default_room: "", max_frame: 1024 });
  });

  test("unknown flags are refused with the usage", () => {
    expect(() => settingsFromFlags(["--nope"])).toThrow(/nope/);
  });
});
