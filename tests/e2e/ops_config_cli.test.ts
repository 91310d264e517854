/**
 * `tcpchat config check|print|example` and `tcpchat serve` with a bad
 * configuration, as a user runs them (under Bun: the configuration code is
 * the same on every runtime; file reading and env are covered under all three
 * by the reload suite).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "tcpchat-config-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `tcpchat ARGS` in the temp dir with only the given TCPCHAT_ variables set. */
function tcpchat(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TCPCHAT_")));
  const result = spawnSync(binPath("bun"), [join(REPO_ROOT, "main.ts"), ...args], {
    cwd: dir,
    env: { ...clean, ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("tcpchat config", () => {
  test("check: a good file exits 0; a bad one exits 2 naming the file, each key and what was expected", () => {
    const good = file("good.toml", 'port = 7000\nheartbeat_interval = "10s"\n[heartbeat]\nmax_missed = 5\n');
    expect(tcpchat(["config", "check", good])).toMatchObject({ code: 0, stdout: `${good}: ok\n` });

    const bad = file("bad.toml", 'heartbeat_interval = "soon"\nprot = 7000\nmax_text = 0\n');
    const result = tcpchat(["config", "check", bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}: heartbeat_interval: expected a duration`);
    expect(result.stderr).toContain(`${bad}: prot: unknown setting (did you mean port?)`);
    expect(result.stderr).toContain(`${bad}: max_text: must be at least 1, got 0`);

    expect(tcpchat(["config", "check", join(dir, "missing.toml")])).toMatchObject({ code: 2 });
    expect(tcpchat(["config", "check", good], { TCPCHAT_MAX_PER_IP: "many" }).stderr).toContain(
      'environment: TCPCHAT_MAX_PER_IP: expected a whole number, got "many"',
    );
  });

  test("check without a file reads ./tcpchat.toml if present, and nothing if not", () => {
    expect(tcpchat(["config", "check"])).toMatchObject({ code: 0, stdout: "configuration (no file): ok\n" });
    file("tcpchat.toml", "max_text = -1\n");
    try {
      const result = tcpchat(["config", "check"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("tcpchat.toml: max_text: must be at least 1");
      expect(tcpchat(["config", "check", "--config", ""]).code).toBe(0);
    } finally {
      rmSync(join(dir, "tcpchat.toml"));
    }
  });

  test("print shows the effective value of every setting and where it came from", () => {
    const conf = file("print.toml", 'max_text = 100\nhistory = 7\nserver_name = "from-file"\n');
    const result = tcpchat(["config", "print", "--config", conf, "--max-text", "300"], {
      TCPCHAT_MAX_TEXT: "200",
      TCPCHAT_HISTORY: "9",
      TCPCHAT_CONFIG: "/nonexistent.toml",
    });
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toContain("max_text = 300  # flag --max-text");
    expect(lines).toContain("history = 9  # env TCPCHAT_HISTORY");
    expect(lines).toContain(`server_name = "from-file"  # file ${conf}`);
    expect(lines).toContain('heartbeat_interval = "30s"  # default');
    expect(lines).toContain('max_pending = "1MiB"  # default');
  });

  test("example prints tcpchat.example.toml", () => {
    const result = tcpchat(["config", "example"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(REPO_ROOT, "tcpchat.example.toml"), "utf8"));
  });
});

describe("tcpchat serve with a bad configuration", () => {
  test("exits 2 at start with every problem: file, env and flag", () => {
    const bad = file("serve-bad.toml", "nope = 1\n");
    const result = tcpchat(["serve", "--config", bad, "--max-text", "x"], { TCPCHAT_PORT: "99999" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}: nope: unknown setting`);
    expect(result.stderr).toContain('environment: TCPCHAT_PORT: must be 0 to 65535, got "99999"');
    expect(result.stderr).toContain('command line: --max-text: expected a whole number, got "x"');
    expect(result.stdout).not.toContain("listening");
  });

  test("exits 2 when the named config file or the log file cannot be used", () => {
    const missing = tcpchat(["serve", "--config", join(dir, "nowhere.toml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(dir, "nowhere.toml")}: cannot read`);
    const noDir = tcpchat(["serve", "--port", "0", "--log-file", join(dir, "no", "such", "dir.log")]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain("cannot append to log_file");
  });
});
