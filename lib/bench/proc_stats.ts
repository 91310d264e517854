/**
 * CPU time and resident memory of a process tree, read from Linux `/proc`
 * through the runtime's file reading (no runtime API of its own). The tree is
 * the process and its descendants, so a server started through a wrapper
 * (`npx`, a shell) is counted whole. Everything here answers undefined where
 * `/proc` cannot be read (another OS, or Deno without `--allow-read`).
 *
 * @module
 */

import type { Runtime } from "../runtime/types.ts";

/** USER_HZ: `/proc` counts CPU time in 1/100 s on every Linux in use. */
export const CLOCK_TICKS_PER_S = 100;
/** Guards the descendant walk against a process table that changes under it. */
const MAX_TREE = 1024;

/** Fields of `/proc/PID/stat` after the command name (which may contain spaces). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The warning for a `--pid` whose `/proc` entries cannot be read. */
export function procUnreadable(pid: number): string {
  return `cannot read /proc/${pid}: no server CPU or memory figures (is the pid right? under Deno, /proc needs --allow-all)`;
}

/** Reads `/proc` for one process tree (or for the bench itself, `"self"`). */
export class ProcStats {
  readonly #runtime: Runtime;
  readonly #pid: number | "self";
  /** Found once: later reads then take one event-loop turn, not one per tree level. */
  #pids: Promise<string[]> | undefined;

  /** `pid` is the root of the tree; `"self"` is this process alone. */
  constructor(runtime: Runtime, pid: number | "self") {
    this.#runtime = runtime;
    this.#pid = pid;
  }

  async #read(path: string): Promise<string | undefined> {
    try {
      return await this.#runtime.readTextFile(path);
    } catch {
      return undefined;
    }
  }

  #tree(): Promise<string[]> {
    this.#pids ??= this.#findTree();
    return this.#pids;
  }

  async #findTree(): Promise<string[]> {
    if (this.#pid === "self") return ["self"];
    const pids = [String(this.#pid)];
    for (let i = 0; i < pids.length && pids.length < MAX_TREE; i++) {
      // Children are listed under the thread that forked them; servers fork from the main thread.
      const children = await this.#read(`/proc/${pids[i]}/task/${pids[i]}/children`);
      if (children) pids.push(...children.trim().split(/\s+/).filter(Boolean));
    }
    return pids;
  }

  /** User plus system CPU time of the tree, in clock ticks; undefined if unreadable. */
  async cpuTicks(): Promise<number | undefined> {
    const stats = await Promise.all((await this.#tree()).map((pid) => this.#read(`/proc/${pid}/stat`)));
    let total: number | undefined;
    for (const stat of stats) {
      if (stat === undefined) continue;
      const fields = statFields(stat);
      total = (total ?? 0) + Number(fields[11]) + Number(fields[12]);
    }
    return total;
  }

  /** Resident memory of the tree in KiB (sum of `VmRSS`); undefined if unreadable. */
  async rssKiB(): Promise<number | undefined> {
    const statuses = await Promise.all((await this.#tree()).map((pid) => this.#read(`/proc/${pid}/status`)));
    let total: number | undefined;
    for (const status of statuses) {
      const match = status && /^VmRSS:\s+(\d+)/m.exec(status);
      if (match) total = (total ?? 0) + Number(match[1]);
    }
    return total;
  }
}
