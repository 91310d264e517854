/**
 * Giving memory back to the system after a burst (issue 15): a connect storm
 * or a flood leaves the engines holding heap they no longer need, and neither
 * engine returns it on its own while the process is idle, because their
 * collectors run only when JavaScript allocates. These functions collect
 * everything now and hand the freed pages back. Each pauses the process (a
 * few ms to tens of ms on a heap of tens of MB), so the server calls them only
 * when it is quiet (`lib/server/idle_memory.ts`).
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's `gc` with its options bag (V8 10+): a last-resort major GC also shrinks the young generation. */
type V8Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

let v8Gc: V8Gc | null | undefined;

/**
 * V8 (Node and Deno): one memory-reducing full collection. V8 exposes `gc`
 * only under `--expose-gc`; setting that flag at run time takes effect for
 * contexts created afterwards, so the function is taken from a fresh context
 * once. Without it (a V8 that refuses) the answer is false and nothing runs.
 */
export function releaseV8Memory(): boolean {
  if (v8Gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : null");
      v8Gc = typeof gc === "function" ? (gc as V8Gc) : null;
    } catch {
      v8Gc = null;
    }
  }
  if (v8Gc === null) return false;
  v8Gc({ type: "major", execution: "sync", flavor: "last-resort" });
  return true;
}

/** The two Bun calls this needs (not in every `bun-types` version, so typed here). */
interface BunMemory {
  gc(force: boolean): void;
  shrink?: () => void;
}

/**
 * Bun (JavaScriptCore): a synchronous full collection, then `Bun.shrink()`,
 * which releases the freed pages that a collection alone keeps for reuse.
 */
export function releaseBunMemory(): boolean {
  const bun = (globalThis as unknown as { Bun: BunMemory }).Bun;
  bun.gc(true);
  bun.shrink?.();
  return true;
}
