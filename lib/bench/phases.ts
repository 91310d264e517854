/**
 * The clock of a run: phases (warm-up, measure, drain, hold), the progress
 * tick and the fixed-rate publishing tick, all on time even when the bench is
 * saturated.
 *
 * A runtime runs timers only between event-loop turns, and one turn of a busy
 * bench (reading every ready socket, each up to what the kernel holds) can
 * last seconds with thousands of connections. So the receive path calls
 * {@linkcode pollTimers} after each chunk, and a timer fires on the first of
 * that poll or the runtime's own timer. How late the runtime's timers were is
 * kept as a measure of how far the bench's event loop fell behind.
 *
 * @module
 */

interface Timer {
  at: number;
  fire: () => void;
  done: boolean;
}

const pending: Timer[] = [];
let nextAt = Infinity;
let worstLoopLagMs = 0;

function schedule(ms: number, fire: () => void): Timer {
  const timer = { at: performance.now() + ms, fire, done: false };
  pending.push(timer);
  nextAt = Math.min(nextAt, timer.at);
  setTimeout(() => {
    worstLoopLagMs = Math.max(worstLoopLagMs, performance.now() - timer.at);
    run(timer);
  }, ms);
  return timer;
}

function run(timer: Timer): void {
  if (timer.done) return;
  timer.done = true;
  const i = pending.indexOf(timer);
  if (i >= 0) pending.splice(i, 1);
  nextAt = pending.reduce((least, t) => Math.min(least, t.at), Infinity);
  timer.fire();
}

/** Fires the timers that are due; cheap enough to call after every received chunk. */
export function pollTimers(): void {
  if (pending.length === 0) return;
  const now = performance.now();
  if (now < nextAt) return;
  for (const timer of pending.filter((t) => t.at <= now)) run(timer);
}

/** The most any runtime timer fired late since the last call, in ms (0 when the loop kept up); resets it. */
export function takeLoopLagMs(): number {
  const worst = worstLoopLagMs;
  worstLoopLagMs = 0;
  return worst;
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: Timer | undefined;
    const done = () => {
      if (timer !== undefined) run(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    timer = schedule(ms, done);
    signal?.addEventListener("abort", done);
  });
}

/**
 * Calls `fn` every `ms` until the returned function is called. A tick that
 * falls behind is skipped, not repeated, and so is a tick that comes while
 * the promise `fn` returned last time is still pending.
 */
export function every(ms: number, fn: () => void | Promise<void>): () => void {
  let stopped = false;
  let busy = false;
  let timer: Timer;
  const tick = () => {
    if (stopped) return;
    const at = Math.max(timer.at + ms, performance.now() + 1);
    timer = schedule(at - performance.now(), tick);
    if (busy) return;
    const result = fn();
    if (result instanceof Promise) {
      busy = true;
      result.finally(() => (busy = false));
    }
  };
  timer = schedule(ms, tick);
  return () => {
    stopped = true;
    run(timer);
  };
}

/** Polls `condition` every `stepMs` until it holds or `timeoutMs` passed; resolves with whether it held. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
  stepMs = 10,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() >= deadline || signal?.aborted) return false;
    await sleep(stepMs, signal);
  }
  return true;
}
