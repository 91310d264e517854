/** When a quiet server gives memory back (lib/server/idle_memory.ts), with a scripted probe. */
import { describe, expect, test } from "bun:test";
import { IdleMemory, type IdleMemoryProbe } from "../../lib/server/idle_memory.ts";

const MB = 1024 * 1024;

/** A probe whose resident size and activity the test sets; a release drops rss to `rssAfterRelease`. */
function probe(rss: number) {
  const state = { rss, activity: 0, releases: 0, rssAfterRelease: rss, canRelease: true, clock: 0 };
  const p: IdleMemoryProbe = {
    rss: () => state.rss,
    activity: () => state.activity,
    release: () => {
      if (!state.canRelease) return false;
      state.releases++;
      state.clock += 12;
      state.rss = state.rssAfterRelease;
      return true;
    },
    now: () => state.clock,
  };
  return { state, p };
}

describe("idle memory release", () => {
  test("releases once the server is quiet after growing by the threshold, and reports the pause", () => {
    const { state, p } = probe(60 * MB);
    const idle = new IdleMemory(p);
    state.activity = 5000; // a connect burst
    state.rss = 90 * MB;
    state.rssAfterRelease = 80 * MB;
    expect(idle.check(16 * MB)).toBeNull(); // busy since the last check
    expect(idle.check(16 * MB)).toEqual({ rssBefore: 90 * MB, rssAfter: 80 * MB, pauseMs: 12 });
    expect(state.releases).toBe(1);
  });

  test("does not release while chat goes on, however much it grew", () => {
    const { state, p } = probe(60 * MB);
    const idle = new IdleMemory(p);
    state.rss = 200 * MB;
    for (let i = 0; i < 10; i++) {
      state.activity += 100;
      expect(idle.check(16 * MB)).toBeNull();
    }
    expect(state.releases).toBe(0);
  });

  test("memory that stays live is not collected again until it grows by the threshold once more", () => {
    const { state, p } = probe(60 * MB);
    const idle = new IdleMemory(p);
    state.rss = state.rssAfterRelease = 100 * MB; // all live: the release frees nothing
    expect(idle.check(16 * MB)).not.toBeNull();
    for (let i = 0; i < 5; i++) expect(idle.check(16 * MB)).toBeNull();
    state.rss = state.rssAfterRelease = 115 * MB;
    expect(idle.check(16 * MB)).toBeNull();
    state.rss = 117 * MB;
    expect(idle.check(16 * MB)).not.toBeNull();
    expect(state.releases).toBe(2);
  });

  test("growth is counted from the lowest size seen, so memory freed on its own lowers the bar", () => {
    const { state, p } = probe(80 * MB);
    const idle = new IdleMemory(p);
    state.rss = 50 * MB;
    expect(idle.check(16 * MB)).toBeNull();
    state.rss = 67 * MB;
    expect(idle.check(16 * MB)).not.toBeNull();
  });

  test("a large process (past 256 MiB) must also have grown by a quarter, so that its longer pauses stay rare", () => {
    const { state, p } = probe(800 * MB);
    const idle = new IdleMemory(p);
    state.rss = 990 * MB;
    expect(idle.check(16 * MB)).toBeNull();
    state.rss = 1001 * MB;
    expect(idle.check(16 * MB)).not.toBeNull();
  });

  test("a threshold of 0 turns releases off", () => {
    const { state, p } = probe(60 * MB);
    const idle = new IdleMemory(p);
    state.rss = 500 * MB;
    expect(idle.check(0)).toBeNull();
    expect(state.releases).toBe(0);
  });

  test("a runtime that cannot release is asked once, then left alone", () => {
    const { state, p } = probe(60 * MB);
    state.canRelease = false;
    let asked = 0;
    const counting: IdleMemoryProbe = { ...p, release: () => (asked++, p.release()) };
    const idle = new IdleMemory(counting);
    state.rss = 100 * MB;
    expect(idle.check(16 * MB)).toBeNull();
    expect(idle.check(16 * MB)).toBeNull();
    expect(asked).toBe(1);
  });
});
