/**
 * Preloaded into the chat server by `scripts/conn_memory.ts` (never in
 * production): on SIGUSR1 it runs a full GC and prints one line on stderr,
 * `MEMPROBE {json}`, with the process's RSS and JS heap figures, and on Bun
 * the count of heap objects by type (from `bun:jsc`).
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

async function measure(): Promise<Record<string, unknown>> {
  if (g.Bun !== undefined) {
    const jsc = await import("bun:jsc" as string);
    g.Bun.gc(true);
    const stats = jsc.heapStats();
    const usage = process.memoryUsage();
    return {
      rss: usage.rss,
      heapUsed: stats.heapSize,
      extra: stats.extraMemorySize,
      objects: stats.objectCount,
      types: stats.objectTypeCounts,
    };
  }
  // Deno, run with --v8-flags=--expose-gc.
  g.gc?.();
  const usage = g.Deno.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, extra: usage.external };
}

function report(): void {
  measure().then((m) => console.error(`MEMPROBE ${JSON.stringify(m)}`));
}

if (g.Deno !== undefined) g.Deno.addSignalListener("SIGUSR1", report);
else process.on("SIGUSR1", report);
