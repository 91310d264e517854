/** `tcpchat bench --sub-addrs`: subscribers spread over a cluster's nodes. */
import { expect, test } from "bun:test";
import { benchOptionsFromArgs } from "../../lib/cli/bench.ts";

test("--sub-addrs lists the nodes subscribers connect to; publishers keep HOST:PORT", () => {
  const { options } = benchOptionsFromArgs(["127.0.0.1:7000", "--sub-addrs", "127.0.0.1:7000,localhost:7001"]);
  expect(options).toMatchObject({ hostname: "127.0.0.1", port: 7000 });
  expect(options.subAddresses).toEqual([{ hostname: "127.0.0.1", port: 7000 }, { hostname: "127.0.0.1", port: 7001 }]);
  expect(benchOptionsFromArgs([]).options.subAddresses).toBeUndefined();
});

test("--sub-addrs refuses an empty entry, a bad port and the idle scenario", () => {
  expect(() => benchOptionsFromArgs(["--sub-addrs", "127.0.0.1:7000,"])).toThrow("--sub-addrs");
  expect(() => benchOptionsFromArgs(["--sub-addrs", "127.0.0.1:99999"])).toThrow("not a HOST:PORT");
  expect(() => benchOptionsFromArgs(["--scenario", "idle", "--sub-addrs", "127.0.0.1:7000"])).toThrow("does not apply");
});
