/**
 * The protocol fuzzer in CI: a short run against the real server under Bun
 * (the long runs are `npm run fuzz`, see docs/reliability.md), and a replay
 * of every saved regression case under every runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FuzzTarget, loadRegressions, runFuzz } from "../../scripts/fuzz.ts";
import { SERVER_RUNTIMES } from "../support/chat_server.ts";
import { REPO_ROOT } from "../support/runtimes.ts";

const MAX_RSS_GROWTH = 256 * 1024 * 1024;

describe("fuzzing (bun)", () => {
  test("8 s of random and mutated frames in random chunks: the server stays up, answers probes, rejects each bad line once, cleans up, memory bounded", async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const saveDir = join(REPO_ROOT, ".tmp", "fuzz_failures");
    const result = await runFuzz({ runtime: "bun", seconds: 8, seed, saveDir, maxRssGrowthMiB: 256, maxFailures: 1 });
    const failures = result.failures.map((f) => `seed ${seed} batch ${f.found!.batch} (saved in ${saveDir}):\n${f.found!.failure}`);
    expect(failures).toEqual([]);
    expect(result.batches).toBeGreaterThanOrEqual(5);
  }, 40_000);
});

describe.each(SERVER_RUNTIMES)("fuzz regressions (%s)", (runtime) => {
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await FuzzTarget.start(runtime);
  });
  afterAll(() => target.stop());

  for (const { file, fuzzCase } of loadRegressions()) {
    // A case whose bug is still open must keep failing; once fixed, drop its open_bug line.
    const run = fuzzCase.open_bug ? test.failing : test;
    run(`${file}: ${fuzzCase.description}`, async () => {
      expect(await target.runBatch(fuzzCase.connections, MAX_RSS_GROWTH)).toEqual([]);
    }, 20_000);
  }
});
