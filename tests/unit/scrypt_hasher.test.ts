import { describe, expect, test } from "bun:test";
import { HasherBusyError } from "../../lib/hub/password_hasher.ts";
import { availableParallelism } from "node:os";
import { defaultHashConcurrency, MAX_DEFAULT_HASH_CONCURRENCY, ScryptHasher } from "../../lib/server/scrypt_hasher.ts";

describe("scrypt hasher", () => {
  test("a hash verifies its password only, and never contains it", async () => {
    const hasher = new ScryptHasher({ N: 1024 });
    const record = await hasher.hash("correct horse");
    expect(record).toMatchObject({ algo: "scrypt", N: 1024, r: 8, p: 1 });
    expect(JSON.stringify(record)).not.toContain("correct horse");
    expect(await hasher.verify("correct horse", record)).toBe(true);
    expect(await hasher.verify("correct horsf", record)).toBe(false);
    expect(await hasher.verify("", record)).toBe(false);
    // Two hashes of one password differ (salted).
    expect((await hasher.hash("correct horse")).hash).not.toBe(record.hash);
  });

  test("a record keeps its own cost: raising N later still verifies old hashes", async () => {
    const old = await new ScryptHasher({ N: 1024 }).hash("pw-old-cost");
    expect(await new ScryptHasher({ N: 2048 }).verify("pw-old-cost", old)).toBe(true);
  });

  test("past maxConcurrent + maxQueued, requests are refused at once with a retry time", async () => {
    const hasher = new ScryptHasher({ N: 1024, maxConcurrent: 1, maxQueued: 2 });
    const accepted = [hasher.hash("a"), hasher.hash("b"), hasher.hash("c")];
    expect(hasher.load).toBe(3);
    const refused = await hasher.hash("d").catch((e) => e);
    expect(refused).toBeInstanceOf(HasherBusyError);
    expect(refused.retryAfterMs).toBeGreaterThanOrEqual(100);
    await Promise.all(accepted);
    expect(hasher.load).toBe(0);
    expect(await hasher.hash("e")).toMatchObject({ algo: "scrypt" });
  });

  test("by default hashes leave one core to the chat: cores - 1, at least 1, at most 8", () => {
    expect(defaultHashConcurrency(1)).toBe(1);
    expect(defaultHashConcurrency(2)).toBe(1);
    expect(defaultHashConcurrency(3)).toBe(2);
    expect(defaultHashConcurrency(4)).toBe(3);
    expect(defaultHashConcurrency(64)).toBe(MAX_DEFAULT_HASH_CONCURRENCY);
    expect(defaultHashConcurrency(0)).toBe(1);
    expect(defaultHashConcurrency(Number.NaN)).toBe(1);
    expect(new ScryptHasher().maxConcurrent).toBe(defaultHashConcurrency(availableParallelism()));
    expect(new ScryptHasher({ maxConcurrent: 5 }).maxConcurrent).toBe(5);
  });
});
