/**
 * Polling waits for end-to-end suites: wait until something a test can only
 * look at (a client's frames, a terminal's screen, a log file) says what it
 * expects, with a deadline and an error that says what was missing.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling every 20 ms; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Waits until the text `read` returns matches `match`, polling every 100 ms,
 * and returns it; fails after `timeoutMs` with the last text read.
 */
export async function eventuallyMatches(read: () => string, match: RegExp, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = read();
    if (match.test(last)) return last;
    await sleep(100);
  }
  throw new Error(`no ${match} within ${timeoutMs} ms in:\n${last}`);
}
