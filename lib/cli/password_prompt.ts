/**
 * Asking a person for a password in the terminal without showing it: what is
 * typed is not echoed, and the line is kept out of readline's history.
 *
 * @module
 */
import type * as readline from "node:readline";

/** readline's output hook (present in Node, and in Bun's and Deno's ports of it). */
interface MutableOutput {
  _writeToOutput?: (text: string) => void;
  history?: string[];
}

/**
 * Asks `question` on the running readline `rl` and resolves with the answer,
 * typed without echo (client_security.ts's `promptHidden` is for before a
 * readline exists).
 */
export function askHidden(rl: readline.Interface, question: string): Promise<string> {
  const hooked = rl as unknown as MutableOutput;
  const original = hooked._writeToOutput;
  let asked = false;
  if (original) {
    hooked._writeToOutput = function (text: string) {
      // The question itself is shown once; afterwards only line ends (never the typed characters).
      if (!asked) {
        asked = true;
        original.call(rl, text);
      } else if (text.includes("\n")) original.call(rl, "\n");
    };
  }
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      if (original) hooked._writeToOutput = original;
      forgetLastHistory(rl, answer);
      resolve(answer);
    });
  });
}

/** Removes `line` from the top of readline's history (a command that carried a password). */
export function forgetLastHistory(rl: readline.Interface, line: string): void {
  const history = (rl as unknown as MutableOutput).history;
  if (Array.isArray(history) && history[0] === line) history.shift();
}

/** Whether a typed command carries a password (so it must not stay in history or on screen). */
export function carriesPassword(line: string): boolean {
  return /^\/(register|passwd|drop)\s+\S/i.test(line.trim()) || /^\/nick\s+\S+\s+\S/i.test(line.trim());
}
