/**
 * Regenerates what is made from the settings table: `tcpchat.example.toml`
 * and the settings table in `docs/operations.md`. Run after changing
 * `lib/config/settings.ts`: `npx bun scripts/gen_config_docs.ts`
 * (`tests/unit/config_docs.test.ts` fails while they are out of date).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { exampleToml, withSettingsTable } from "../lib/config/describe.ts";

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url).href);

writeFileSync(root("tcpchat.example.toml"), exampleToml());
const docs = root("docs/operations.md");
writeFileSync(docs, withSettingsTable(readFileSync(docs, "utf8")));
console.log("wrote tcpchat.example.toml and the settings table in docs/operations.md");
