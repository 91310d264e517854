import { describe, expect, test } from "bun:test";
import { numbered } from "../../lib/bench/options.ts";
import { benchOptionsFromArgs } from "../../lib/cli/bench.ts";
import { CliError } from "../../lib/cli/cli_error.ts";

function usageError(args: string[]): CliError {
  try {
    benchOptionsFromArgs(args);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error(`accepted: ${args.join(" ")}`);
}

describe("tcpchat bench arguments", () => {
  test("defaults: fanout, 1 publisher x 100 subscribers at 127.0.0.1:7777, unique nicks and rooms", () => {
    const { options, json, quiet } = benchOptionsFromArgs([]);
    expect(options).toMatchObject({ scenario: "fanout", hostname: "127.0.0.1", port: 7777, rooms: 1, pubs: 1, subs: 100 });
    expect(options).toMatchObject({ ratePerPub: 0, window: 1000, textBytes: 100, warmupMs: 1000, durationMs: 5000 });
    expect([json, quiet]).toEqual([false, false]);
    expect(benchOptionsFromArgs([]).options.nickPrefix).not.toBe(options.nickPrefix);
  });

  test("the latency scenario defaults to 1000 msgs/s per publisher and latency from every subscriber", () => {
    const { options } = benchOptionsFromArgs(["--scenario", "latency"]);
    expect(options).toMatchObject({ ratePerPub: 1000, latencyFromAll: true });
  });

  test("address, sizes and times: a bare time is seconds", () => {
    const { options } = benchOptionsFromArgs([
      "localhost:9000", "-s", "fanout", "--size", "1KiB", "--duration", "2.5", "--warmup", "250ms", "--rate", "500",
      "--pid", "42", "--json", "-q",
    ]);
    expect(options).toMatchObject({ hostname: "127.0.0.1", port: 9000, textBytes: 1024, durationMs: 2500, warmupMs: 250 });
    expect(options).toMatchObject({ ratePerPub: 500, serverPid: 42 });
  });

  test("idle takes --conns and --rooms", () => {
    const { options } = benchOptionsFromArgs(["-s", "idle", "--conns", "50", "--rooms", "5", "--duration", "1s"]);
    expect(options).toMatchObject({ scenario: "idle", conns: 50, rooms: 5, durationMs: 1000 });
  });

  test.each([
    [["--bogus"], "bogus"],
    [["--subs", "abc"], "--subs"],
    [["--subs", "0"], "--subs"],
    [["--size", "5"], "--size"],
    [["--duration", "soon"], "--duration"],
    [["--scenario", "storm"], "--scenario"],
    [["-s", "idle", "--subs", "3"], "does not apply"],
    [["--conns", "3"], "does not apply"],
    [["--nick-prefix", "a".repeat(30)], "--nick-prefix"],
    [["--nick-prefix", "has space"], "--nick-prefix"],
    [["--room-prefix", "UPPER"], "--room-prefix"],
    [["--rooms", "1000", "--subs", "100"], "connections asked for"],
    [["a:1", "b:2"], "at most one"],
    [["host:99999"], "HOST:PORT"],
    [["--ws", "--sub-dialect", "irc"], "--ws"],
  ])("%p is a usage error (exit 2)", (args, words) => {
    const error = usageError(args);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(words);
  });

  test("--help is not an error", () => {
    expect(usageError(["--help"]).exitCode).toBe(0);
  });

  test("numbered names of one run all have the same length", () => {
    expect([numbered("r", 0, 1), numbered("r", 3, 10), numbered("r", 7, 100), numbered("r", 99, 100)]).toEqual([
      "r0", "r3", "r07", "r99",
    ]);
  });
});
