import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ASSETS_MODULE, webAssetsModule } from "../../scripts/build_web.ts";

test("lib/web/_assets.gen.ts is built from the current lib/web sources (run bun scripts/build_web.ts)", async () => {
  expect(readFileSync(ASSETS_MODULE, "utf8")).toBe(await webAssetsModule());
});
