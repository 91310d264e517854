/**
 * The release artefacts in dist/ (made by `npm run build`, which `npm test`
 * runs first): each runs, tells its version, and is packaged as documented.
 * The end-to-end suites also run against the linux executable and the bundle
 * (see tests/support/runtimes.ts).
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";

const DIST = join(REPO_ROOT, "dist");
const built = existsSync(join(DIST, "SHA256SUMS"));
const version: string = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).version;

// In CI the build always runs first; locally, `bun test` alone skips this file until `npm run build`.
if (!built && process.env.CI) throw new Error("dist/ is missing: run npm run build before the tests");

function run(argv: string[]): { code: number; out: string } {
  const result = Bun.spawnSync(argv, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
}

const ARTEFACT_COMMANDS: [string, string[]][] = [
  ["linux executable", [join(DIST, "tcpchat-linux-x64")]],
  ["bundle on node", ["node", join(DIST, "tcpchat.js")]],
  ["bundle on bun", [binPath("bun"), join(DIST, "tcpchat.js")]],
  ["bundle on deno", [binPath("deno"), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", join(DIST, "tcpchat.js")]],
];

describe.skipIf(!built)("release artefacts", () => {
  test.each(ARTEFACT_COMMANDS)("%s: --version names version and commit, --help lists the commands", (_, argv) => {
    const v = run([...argv, "--version"]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(new RegExp(`^tcpchat ${version.replaceAll(".", "\\.")} \\([0-9a-f]{12}(-dirty)?\\)`));
    const help = run([...argv, "--help"]);
    expect(help.code).toBe(0);
    for (const command of ["serve", "connect", "send"]) expect(help.out).toContain(`  ${command} `);
    expect(run([...argv, "--bogus"]).code).toBe(2);
  });

  test("the darwin executable is a Mach-O arm64 binary embedding this build's bundle and version", () => {
    const binary = readFileSync(join(DIST, "tcpchat-darwin-arm64"));
    expect(binary.readUInt32LE(0)).toBe(0xfeedfacf); // MH_MAGIC_64
    expect(binary.readUInt32LE(4)).toBe(0x0100000c); // CPU_TYPE_ARM64
    const linuxVersion = run([join(DIST, "tcpchat-linux-x64"), "--version"]).out;
    const commit = /\(([^)]+)\)/.exec(linuxVersion)![1];
    expect(binary.includes(Buffer.from(JSON.stringify(commit)))).toBe(true);
    expect(binary.includes(Buffer.from(`"version":"${version}"`)) || binary.includes(Buffer.from(version))).toBe(true);
    expect(binary.includes(Buffer.from("tcpchat: a small, fast TCP chat server and client"))).toBe(true);
  });

  test("archives hold bin/tcpchat, the example config, a service file and a README; SHA256SUMS match", () => {
    for (const [platform, service] of [["linux-x64", "tcpchat.service"], ["darwin-arm64", "com.tcpchat.server.plist"]]) {
      const stem = `tcpchat-${version}-${platform}`;
      const listing = run(["tar", "tzf", join(DIST, `${stem}.tar.gz`)]).out.split("\n");
      for (const entry of ["bin/tcpchat", "README.txt", service]) expect(listing).toContain(`${stem}/${entry}`);
      if (existsSync(join(REPO_ROOT, "tcpchat.example.toml"))) expect(listing).toContain(`${stem}/conf/tcpchat.example.toml`);
    }
    const sums = readFileSync(join(DIST, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.length).toBe(5);
    for (const line of sums) {
      const [hash, file] = line.split(/\s+/);
      expect(createHash("sha256").update(readFileSync(join(DIST, file))).digest("hex")).toBe(hash);
    }
    // Listing two ~40 MB archives and hashing five artefacts (~300 MB) takes seconds on a busy machine.
  }, 30_000);
});
