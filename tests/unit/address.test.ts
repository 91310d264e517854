import { expect, test } from "bun:test";
import { parseAddress } from "../../lib/cli/address.ts";

test("HOST:PORT forms", () => {
  expect(parseAddress(undefined, "")).toEqual({ host: "127.0.0.1", port: 7777 });
  expect(parseAddress("localhost:9000", "")).toEqual({ host: "127.0.0.1", port: 9000 });
  expect(parseAddress("chat.example", "")).toEqual({ host: "chat.example", port: 7777 });
  expect(parseAddress(":8000", "")).toEqual({ host: "127.0.0.1", port: 8000 });
  expect(parseAddress("[::1]:7000", "")).toEqual({ host: "::1", port: 7000 });
  expect(() => parseAddress("host:99999", "")).toThrow(/HOST:PORT/);
  expect(() => parseAddress("a:b:c", "")).toThrow(/HOST:PORT/);
});
