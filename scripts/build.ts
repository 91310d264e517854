/**
 * Release build (`npm run build`, run with Bun). Writes to dist/:
 * - tcpchat-linux-x64, tcpchat-darwin-arm64: standalone executables
 *   (`bun build --compile`, cross-compiled, minified);
 * - tcpchat.js: one ES module that runs on `deno run`, `bun` and `node` 22.5+;
 * - tcpchat-<version>-<platform>.tar.gz: bin/tcpchat, conf/, a service file
 *   (systemd or launchd) and a README;
 * - SHA256SUMS over all of them.
 * The browser client (lib/web/) is rebuilt into lib/web/_assets.gen.ts first,
 * so every artefact serves the page of the sources it was built from.
 * Version comes from package.json, the commit from git; both are embedded and
 * shown by `tcpchat --version`. Archives are made with fixed times and owners
 * so the same checkout builds the same bytes.
 *
 * Usage: bun scripts/build.ts [--targets linux-x64,darwin-arm64] [--no-archives]
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const BUN = process.execPath;
const PLATFORMS = { "linux-x64": "bun-linux-x64", "darwin-arm64": "bun-darwin-arm64" } as const;
type Platform = keyof typeof PLATFORMS;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { targets: { type: "string" }, "no-archives": { type: "boolean" } },
  strict: true,
});
const targets = (values.targets?.split(",") ?? Object.keys(PLATFORMS)) as Platform[];
for (const t of targets) if (!(t in PLATFORMS)) throw new Error(`unknown target ${t}; known: ${Object.keys(PLATFORMS)}`);

const version: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
const commit = gitCommit();

/** Runs a command from the repo root and fails loudly. */
function run(argv: string[], cwd = ROOT): string {
  const result = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed (${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout.toString();
}

function gitCommit(): string {
  try {
    const sha = run(["git", "rev-parse", "--short=12", "HEAD"]).trim();
    const dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).trim() !== "";
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return "unknown";
  }
}

const define = ["--define", `BUILD_COMMIT=${JSON.stringify(commit)}`];

// The browser client first: the bundle and executables embed lib/web/_assets.gen.ts.
run([BUN, "scripts/build_web.ts"]);

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });

// The bundle: ESM for Node's target (node: built-ins stay imports), which Deno and Bun also run.
run([BUN, "build", "main.ts", "--target=node", "--format=esm", "--minify", ...define, "--outfile", join(DIST, "tcpchat.js")]);
const bundle = join(DIST, "tcpchat.js");
writeFileSync(bundle, "#!/usr/bin/env node\n" + readFileSync(bundle, "utf8"));

const artefacts = ["tcpchat.js"];
for (const platform of targets) {
  const name = `tcpchat-${platform}`;
  run([BUN, "build", "main.ts", "--compile", "--minify", `--target=${PLATFORMS[platform]}`, ...define, "--outfile", join(DIST, name)]);
  artefacts.push(name);
  if (!values["no-archives"]) artefacts.push(archive(platform));
}

writeFileSync(
  join(DIST, "SHA256SUMS"),
  artefacts.map((file) => `${createHash("sha256").update(readFileSync(join(DIST, file))).digest("hex")}  ${file}\n`).join(""),
);
console.log(`built tcpchat ${version} (${commit}) in dist/: ${artefacts.join(", ")}, SHA256SUMS`);

/** Lays out and packs the deployment archive of one platform; returns its file name. */
function archive(platform: Platform): string {
  const stem = `tcpchat-${version}-${platform}`;
  const stage = join(DIST, ".stage", stem);
  mkdirSync(join(stage, "bin"), { recursive: true });
  mkdirSync(join(stage, "conf"), { recursive: true });
  cpSync(join(DIST, `tcpchat-${platform}`), join(stage, "bin", "tcpchat"));
  const example = join(ROOT, "tcpchat.example.toml");
  if (existsSync(example)) cpSync(example, join(stage, "conf", "tcpchat.example.toml"));
  const linux = platform.startsWith("linux");
  const service = linux ? "tcpchat.service" : "com.tcpchat.server.plist";
  cpSync(join(ROOT, "scripts/packaging", service), join(stage, service));
  const note = linux
    ? "tcpchat.service runs it under systemd as an unprivileged user (see the comment at its top)."
    : "com.tcpchat.server.plist runs it under launchd. macOS quarantines downloaded\nfiles: xattr -d com.apple.quarantine bin/tcpchat before the first run.";
  writeFileSync(
    join(stage, "README.txt"),
    readFileSync(join(ROOT, "scripts/packaging/README.txt"), "utf8")
      .replace("VERSION", `${version} (${commit})`)
      .replace("PLATFORM", platform)
      .replace("SERVICE_NOTE", note),
  );
  const file = `${stem}.tar.gz`;
  // Fixed order, times and owners, and gzip without a timestamp: same inputs, same bytes.
  run([
    "sh",
    "-c",
    `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - ${stem} | gzip -n > ${join(DIST, file)}`,
  ], join(DIST, ".stage"));
  rmSync(join(DIST, ".stage"), { recursive: true, force: true });
  return file;
}
