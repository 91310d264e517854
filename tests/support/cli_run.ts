/**
 * Runs one `tcpchat` command to its end, the way a person or a script
 * would: `stdin` written and closed, the exit code and both outputs kept
 * (the account commands read passwords from stdin, never argv).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { commandFor, REPO_ROOT, type RuntimeName } from "./runtimes.ts";

/** What a finished command printed, and its exit code (-1 if it was killed). */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run it: what goes to stdin, and the environment (`env` added over `baseEnv`, default this process's). */
export interface CliRunOptions {
  stdin?: string;
  env?: Record<string, string>;
  baseEnv?: Record<string, string | undefined>;
}

/**
 * Runs `tcpchat ARGS` under `runtime` (a source runtime or a built
 * artefact). `TCPCHAT_PASSWORD` is cleared unless `env` sets it, so a
 * password never leaks in from the test's own environment.
 */
export async function runTcpchat(runtime: RuntimeName, args: string[], options: CliRunOptions = {}): Promise<CliResult> {
  const argv = await commandFor(runtime, "main.ts", args);
  return await new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...(options.baseEnv ?? process.env), TCPCHAT_PASSWORD: "", ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // The command may exit before reading its stdin (a refusal): that is not the test's error.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
