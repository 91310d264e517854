/**
 * Configuration sources as plain inputs: precedence of flags, environment,
 * file and defaults; every kind of mistake named with its source, key and
 * what was expected; reload applied in place.
 */
import { describe, expect, test } from "bun:test";
import { configFileChoice } from "../../lib/config/load.ts";
import { applyReload } from "../../lib/config/reload.ts";
import { defaultSettings, SETTINGS_SCHEMA } from "../../lib/config/settings.ts";
import { ConfigError, type ConfigSources, didYouMean, resolveConfig } from "../../lib/config/sources.ts";
import * as v from "valibot";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

/** The problems a configuration has, as the formatted lines users see. */
function problemsOf(sources: ConfigSources): string[] {
  try {
    resolveConfig(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split("\n");
  }
  throw new Error("expected a ConfigError");
}

describe("config precedence", () => {
  // Each source sets max_text to its own value; every combination of present sources.
  const values = { file: 100, env: 200, flag: 300 } as const;
  const cases: [present: ("file" | "env" | "flag")[], winner: "default" | "file" | "env" | "flag"][] = [
    [[], "default"],
    [["file"], "file"],
    [["env"], "env"],
    [["flag"], "flag"],
    [["file", "env"], "env"],
    [["file", "flag"], "flag"],
    [["env", "flag"], "flag"],
    [["file", "env", "flag"], "flag"],
  ];
  test.each(cases)("with %p set, the value from %s wins", (present, winner) => {
    const sources: ConfigSources = {
      file: present.includes("file") ? { path: "t.toml", text: `max_text = ${values.file}` } : undefined,
      env: envOf(present.includes("env") ? { TCPCHAT_MAX_TEXT: String(values.env) } : {}),
      flags: present.includes("flag") ? { max_text: String(values.flag) } : {},
    };
    const { settings, origins } = resolveConfig(sources);
    expect(settings.max_text).toBe(winner === "default" ? defaultSettings().max_text : values[winner]);
    expect(origins.max_text).toBe(winner);
    // Nothing else moved.
    expect({ ...settings, max_text: 0 }).toEqual({ ...defaultSettings(), max_text: 0 });
  });

  test("sources mix per setting: each setting takes its highest source", () => {
    const { settings, origins } = resolveConfig({
      file: { path: "t.toml", text: 'port = 7000\nheartbeat_interval = "10s"\nserver_name = "file"' },
      env: envOf({ TCPCHAT_PORT: "7100", TCPCHAT_SERVER_NAME: "env" }),
      flags: { port: "7200" },
    });
    expect([settings.port, origins.port]).toEqual([7200, "flag"]);
    expect([settings.server_name, origins.server_name]).toEqual(["env", "env"]);
    expect([settings.heartbeat_interval, origins.heartbeat_interval]).toEqual([10_000, "file"]);
    expect([settings.max_text, origins.max_text]).toEqual([4000, "default"]);
  });

  test("the file's types are read as such; units, booleans and empty strings work in every source", () => {
    const { settings } = resolveConfig({
      file: {
        path: "t.toml",
        text: 'max_pending = "2MiB"\nper_ip_exempt_loopback = false\nrate_per_s = 2.5\ndefault_room = ""\nmax_frame = 1024',
      },
      env: envOf({ TCPCHAT_WRITE_TIMEOUT: "3s", TCPCHAT_LOG_FILE: "" }),
    });
    expect(settings).toMatchObject({
      max_pending: 2 * 1024 * 1024,
      per_ip_exempt_loopback: false,
      rate_per_s: 2.5,
      default_room: "",
      max_frame: 1024,
      write_timeout: 3000,
      log_file: "",
    });
  });

  test("a TOML table is a prefix: [heartbeat] interval is heartbeat_interval", () => {
    const { settings, origins } = resolveConfig({
      file: { path: "t.toml", text: '[heartbeat]\ninterval = "5s"\nmax_missed = 4' },
    });
    expect([settings.heartbeat_interval, settings.heartbeat_max_missed]).toEqual([5000, 4]);
    expect(origins.heartbeat_interval).toBe("file");
  });

  test("--config, then TCPCHAT_CONFIG, then ./tcpchat.toml if present; '' means none", () => {
    expect(configFileChoice({ configPath: "a.toml" }, envOf({ TCPCHAT_CONFIG: "b.toml" }))).toEqual({
      path: "a.toml",
      required: true,
    });
    expect(configFileChoice({}, envOf({ TCPCHAT_CONFIG: "b.toml" }))).toEqual({ path: "b.toml", required: true });
    expect(configFileChoice({}, envOf({}))).toEqual({ path: "tcpchat.toml", required: false });
    expect(configFileChoice({ configPath: "" }, envOf({}))).toEqual({ path: "", required: true });
  });
});

describe("config mistakes", () => {
  test("a bad file value names the file, the key and what was expected", () => {
    expect(problemsOf({ file: { path: "conf/tcpchat.toml", text: 'heartbeat_interval = "soon"' } })).toEqual([
      'conf/tcpchat.toml: heartbeat_interval: expected a duration such as 250ms, 30s, 15m or a number of ms, got "soon"',
    ]);
    expect(problemsOf({ file: { path: "t.toml", text: "port = 70000" } })).toEqual([
      "t.toml: port: must be 0 to 65535, got 70000",
    ]);
    expect(problemsOf({ file: { path: "t.toml", text: "max_text = [1, 2]" } })).toEqual([
      "t.toml: max_text: expected a whole number, got [1,2]",
    ]);
  });

  test("a bad environment variable or flag is named as such", () => {
    expect(problemsOf({ env: envOf({ TCPCHAT_MAX_CONNECTIONS: "1.5" }) })).toEqual([
      'environment: TCPCHAT_MAX_CONNECTIONS: expected a whole number, got "1.5"',
    ]);
    expect(problemsOf({ flags: { log_level: "loud" } })).toEqual([
      'command line: --log-level: must be trace, debug, info, warning, error or fatal, got "loud"',
    ]);
    expect(problemsOf({ flags: { metrics: "9100" } })).toEqual([
      'command line: --metrics: must be HOST:PORT (e.g. 127.0.0.1:9100) or empty, got "9100"',
    ]);
  });

  test("unknown keys in the file are errors, with a suggestion when one is close", () => {
    expect(problemsOf({ file: { path: "t.toml", text: "prot = 1\nmax-text = 5\nzzzzzz = 1\n[heartbeat]\nintreval = 1" } }))
      .toEqual([
        "t.toml: prot: unknown setting (did you mean port?)",
        "t.toml: max-text: unknown setting (did you mean max_text?)",
        "t.toml: zzzzzz: unknown setting",
        "t.toml: heartbeat.intreval: unknown setting (did you mean heartbeat_interval?)",
      ]);
    expect(didYouMean("HEARTBEAT_INTERVAL")).toBe("heartbeat_interval");
    expect(didYouMean("metric")).toBe("metrics");
  });

  test("TOML syntax errors say where; a key set twice is an error", () => {
    const [line] = problemsOf({ file: { path: "t.toml", text: "port = 1\nmax_text = = 2\n" } });
    expect(line).toMatch(/^t\.toml: line 2, column \d+: not valid TOML: /);
    expect(problemsOf({ file: { path: "t.toml", text: 'heartbeat_interval = "1s"\n[heartbeat]\ninterval = "2s"' } }))
      .toEqual(["t.toml: heartbeat.interval: heartbeat_interval is set twice"]);
  });

  test("every problem of every source is listed at once", () => {
    const problems = problemsOf({
      file: { path: "t.toml", text: 'port = "x"\nnope = 1' },
      env: envOf({ TCPCHAT_BURST: "0" }),
      flags: { max_pending: "lots" },
    });
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(":")[0])).toEqual(["t.toml", "t.toml", "environment", "command line"]);
  });

  test("the whole configuration is checked against one schema built from the table", () => {
    expect(v.is(SETTINGS_SCHEMA, defaultSettings())).toBe(true);
    expect(v.is(SETTINGS_SCHEMA, { ...defaultSettings(), port: -1 })).toBe(false);
    expect(v.is(SETTINGS_SCHEMA, { ...defaultSettings(), extra: 1 })).toBe(false);
    const { port: _, ...missing } = defaultSettings();
    expect(v.is(SETTINGS_SCHEMA, missing)).toBe(false);
  });
});

describe("reload", () => {
  test("changes live settings in place and keeps those that need a restart", () => {
    const running = defaultSettings();
    const same = running;
    const next = { ...defaultSettings(), max_text: 10, heartbeat_interval: 500, port: 1, metrics: "127.0.0.1:9", max_frame: 99 };
    const outcome = applyReload(running, next);
    expect(running).toBe(same);
    expect(outcome.changed.sort()).toEqual(["heartbeat_interval", "max_frame", "max_text"]);
    expect(outcome.needRestart).toEqual([
      { name: "port", running: 7777, wanted: 1 },
      { name: "metrics", running: "", wanted: "127.0.0.1:9" },
    ]);
    expect([running.max_text, running.heartbeat_interval, running.port, running.metrics]).toEqual([10, 500, 7777, ""]);
    expect(applyReload(running, { ...running })).toEqual({ changed: [], needRestart: [] });
  });
});
