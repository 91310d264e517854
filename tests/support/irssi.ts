/**
 * irssi in a tmux session for the IRC suites: a fresh home with a config
 * that lets it send at once, a tmux server of its own, and the screen to read
 * back. {@linkcode withIrssi} starts it, runs the test body, adds the screen
 * to any failure, and always ends tmux and removes the home.
 *
 * @example
 * ```ts
 * test.skipIf(!HAVE_IRSSI)("irssi chats", () =>
 *   withIrssi("chat", `-c 127.0.0.1 -p ${port} -n irssiuser`, async (irssi) => {
 *     await eventuallyMatches(irssi.screen, /Welcome to the tcpchat IRC network/);
 *     irssi.type("/join #dev");
 *   }));
 * ```
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether irssi and tmux are both installed (prints a note naming what is missing otherwise). */
export const HAVE_IRSSI: boolean = (() => {
  const missing = ["irssi", "tmux"].filter((p) => spawnSync("sh", ["-c", `command -v ${p}`]).status !== 0);
  if (missing.length > 0) console.warn(`note: skipping irssi tests: ${missing.join(", ")} not installed`);
  return missing.length === 0;
})();

/**
 * irssi paces its commands (one per 2.2 s after a burst) so as not to be
 * closed for flooding: the server's rate limit is what the tests check, so
 * let it send at once. Keys typed by tmux come faster than a person types:
 * without paste detection they are not held as a paste.
 */
const CONFIG = 'settings = { "irc/core" = { cmd_queue_speed = "0"; }; "fe-text" = { paste_detect_time = "0"; }; };\n';

/** A running irssi. */
export interface Irssi {
  /** What its terminal shows now. */
  screen(): string;
  /** Types `text` and Enter. */
  type(text: string): void;
}

/**
 * Starts irssi with `args` (after `--home`, e.g. `-c 127.0.0.1 -p PORT -n
 * NICK`) in a 200×50 tmux window named for `label`, runs `body`, and ends it.
 * A failure carries the screen as it was.
 */
export async function withIrssi(label: string, args: string, body: (irssi: Irssi) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), `tcpchat-irssi-${label}-`));
  writeFileSync(join(home, "config"), CONFIG);
  const socket = `tcpchat-irssi-${label}-${process.pid}`;
  const tmux = (...argv: string[]) => spawnSync("tmux", ["-L", socket, ...argv], { encoding: "utf8" });
  const irssi: Irssi = {
    screen: () => tmux("capture-pane", "-p", "-t", "irc").stdout ?? "",
    type: (text) => {
      if (tmux("send-keys", "-t", "irc", "-l", text).status === 0) tmux("send-keys", "-t", "irc", "Enter");
    },
  };
  try {
    const started = tmux("new-session", "-d", "-s", "irc", "-x", "200", "-y", "50", `irssi --home=${home} ${args}`);
    if (started.status !== 0) throw new Error(`tmux could not start irssi: ${started.stderr}`);
    await body(irssi);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- irssi screen ---\n${irssi.screen()}`, { cause: error });
  } finally {
    tmux("kill-server");
    rmSync(home, { recursive: true, force: true });
  }
}
