/**
 * A command running in a real terminal: a detached tmux session of 120 x 30
 * that the test types into and reads the screen of, as a person would (the
 * password prompts' echo, line editing, what ends up on screen).
 *
 * @module
 */

import { spawnSync } from "node:child_process";

/** Whether tmux is installed (the terminal tests skip without it). */
export const HAVE_TMUX: boolean = spawnSync("tmux", ["-V"]).status === 0;

/** One tmux session; `kill` (or `using`) ends it. */
export class TerminalPane implements Disposable {
  private constructor(readonly name: string) {}

  /** Starts `command` (a shell line) in a new session called `name`; throws if tmux refuses. */
  static open(name: string, command: string): TerminalPane {
    const started = spawnSync("tmux", ["new-session", "-d", "-s", name, "-x", "120", "-y", "30", command]);
    if (started.status !== 0) throw new Error(`tmux could not start ${name}: ${started.stderr}`);
    return new TerminalPane(name);
  }

  /** Sends keys as tmux names them ("Enter", "C-d") or words typed as they are. */
  keys(...keys: string[]): void {
    spawnSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }

  /** Types `text` literally (no key names looked up in it). */
  type(text: string): void {
    spawnSync("tmux", ["send-keys", "-t", this.name, "-l", text]);
  }

  /** The visible screen now. */
  screen(): string {
    return spawnSync("tmux", ["capture-pane", "-p", "-t", this.name]).stdout.toString();
  }

  /** The screen once `pattern` matches it; throws with the screen after `timeoutMs`. */
  async waitScreen(pattern: RegExp, timeoutMs = 8000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`screen of ${this.name} never matched ${pattern}:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends the session (idempotent: tmux answers an error for a gone session, ignored). */
  kill(): void {
    spawnSync("tmux", ["kill-session", "-t", this.name]);
  }

  [Symbol.dispose](): void {
    this.kill();
  }
}
