/**
 * What is generated from the settings table stays in sync with it, and the
 * log file writer survives a failing disk.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { exampleToml, withSettingsTable } from "../../lib/config/describe.ts";
import { defaultSettings, SETTING_NAMES } from "../../lib/config/settings.ts";
import { resolveConfig } from "../../lib/config/sources.ts";
import { LogFileWriter } from "../../lib/ops/log_file.ts";
import { REPO_ROOT } from "../support/runtimes.ts";

const REGENERATE = "out of date: run `npx bun scripts/gen_config_docs.ts`";

describe("generated from the settings table", () => {
  test("tcpchat.example.toml is up to date", () => {
    const example = readFileSync(`${REPO_ROOT}/tcpchat.example.toml`, "utf8");
    expect(example === exampleToml() ? "in sync" : REGENERATE).toBe("in sync");
  });

  test("the settings table in docs/operations.md is up to date", () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/operations.md`, "utf8");
    expect(doc === withSettingsTable(doc) ? "in sync" : REGENERATE).toBe("in sync");
    for (const name of SETTING_NAMES) expect(doc).toContain(`| \`${name}\` |`);
  });

  test("the example, uncommented, is a valid config file that sets every default", () => {
    const text = exampleToml().split("\n").filter((line) => /^# \w+ = /.test(line)).map((line) => line.slice(2)).join("\n");
    const { settings, origins } = resolveConfig({ file: { path: "example", text } });
    expect(settings).toEqual(defaultSettings());
    expect(new Set(Object.values(origins))).toEqual(new Set(["file"]));
  });
});

describe("log file writer", () => {
  test("a failing append drops and counts lines, reports once, and recovers", async () => {
    let failing = true;
    const written: string[] = [];
    const trouble: (string | null)[] = [];
    const writer = new LogFileWriter(
      "/dev/full",
      (_path, bytes) => {
        if (failing) return Promise.reject(new Error("ENOSPC: no space left on device"));
        written.push(new TextDecoder().decode(bytes));
        return Promise.resolve();
      },
      (_path, error) => trouble.push(error?.message ?? null),
      5,
    );
    writer.write("one\n");
    writer.write("two\n");
    await writer.flush();
    expect(writer.stats.errors).toBeGreaterThanOrEqual(1);
    expect(writer.stats.droppedLines).toBe(2);
    expect(trouble).toEqual(["ENOSPC: no space left on device"]);
    failing = false;
    writer.write("three\n");
    await writer.flush();
    expect(written.join("")).toBe("three\n");
    expect(trouble).toEqual(["ENOSPC: no space left on device", null]);
  });
});
