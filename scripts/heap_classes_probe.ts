/**
 * Preloaded into the chat server under Bun (never in production; issue 15):
 * on SIGUSR1 it runs a full GC, takes a JSC heap snapshot and prints one line
 * on stderr, `HEAPCLASSES {json}`: for each class name (`Connection`,
 * `Function`, `Set`, ...) the count of live cells and their bytes, plus the
 * process's RSS. Two readings, before and after N idle connections, give the
 * per-connection breakdown by class (`scripts/conn_breakdown.ts`).
 *
 * @module
 */

export {};

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Count and bytes per class name, from a JSC "Inspector" heap snapshot (nodes: id, size, class, flags). */
function byClass(): Record<string, [number, number]> {
  const snapshot = g.Bun.generateHeapSnapshot();
  const names: string[] = snapshot.nodeClassNames;
  const nodes: number[] = snapshot.nodes;
  const out: Record<string, [number, number]> = {};
  for (let i = 0; i < nodes.length; i += 4) {
    const name = names[nodes[i + 2]!]!;
    const row = (out[name] ??= [0, 0]);
    row[0]++;
    row[1] += nodes[i + 1]!;
  }
  return out;
}

let saved = 0;
if (g.Bun !== undefined) {
  process.on("SIGUSR1", () => {
    g.Bun.gc(true);
    const classes = byClass();
    // For a closer look: the whole snapshot, to follow edges (who holds what).
    const file = process.env.HEAP_PROBE_SAVE;
    if (file) g.Bun.write(`${file}.${++saved}.json`, JSON.stringify(g.Bun.generateHeapSnapshot()));
    console.error(`HEAPCLASSES ${JSON.stringify({ rss: process.memoryUsage().rss, classes })}`);
  });
}
