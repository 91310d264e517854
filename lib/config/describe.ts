/**
 * Text made from the settings table: the commented example config file
 * (`tcpchat.example.toml`), the settings table of `docs/operations.md`, and
 * the TOML lines of `tcpchat config print`. Nothing here is written by hand
 * twice: change the table and regenerate (`npx bun scripts/gen_config_docs.ts`).
 *
 * @module
 */
import type { Origin } from "./sources.ts";
import { envName, flagName, SETTING_NAMES, SETTING_SPECS, type SettingKind, type Settings } from "./settings.ts";
import { formatByteSize, formatDuration } from "./units.ts";

/** A value as written in TOML: durations and sizes with their unit, as strings. */
export function tomlValue(kind: SettingKind, value: unknown): string {
  switch (kind) {
    case "duration":
      return JSON.stringify(formatDuration(value as number));
    case "bytes":
      return JSON.stringify(formatByteSize(value as number));
    default:
      return JSON.stringify(value);
  }
}

const RELOAD_NOTE = {
  live: "",
  new_connections: " (reload: new connections only)",
  restart: " (reload: needs a restart)",
};

/** The commented example configuration: every setting at its default, commented out. */
export function exampleToml(): string {
  const lines = [
    "# tcpchat configuration: an example with every setting at its default.",
    "# Generated from lib/config/settings.ts (npx bun scripts/gen_config_docs.ts); do not edit by hand.",
    "#",
    "# tcpchat serve reads ./tcpchat.toml if it exists, or the file named by --config or TCPCHAT_CONFIG.",
    "# Precedence: flags > environment (TCPCHAT_<NAME>) > this file > defaults.",
    '# Durations take ms, s, m, h ("30s"); sizes take KiB, MiB ("16KiB"); a bare number is ms or bytes.',
    "# SIGHUP reloads the file; a setting marked below takes effect later, all others at once.",
  ];
  for (const name of SETTING_NAMES) {
    const spec = SETTING_SPECS[name];
    lines.push("", `# ${spec.doc}${RELOAD_NOTE[spec.reload ?? "live"]}`, `# ${name} = ${tomlValue(spec.kind, spec.default)}`);
  }
  return lines.join("\n") + "\n";
}

const RELOAD_WORD = { live: "live", new_connections: "new connections", restart: "restart" };

/** The settings as a Markdown table for the docs. */
export function settingsMarkdown(): string {
  const rows = SETTING_NAMES.map((name) => {
    const spec = SETTING_SPECS[name];
    const cells = [
      `\`${name}\``,
      `\`${envName(name)}\`<br>\`--${flagName(name)}\``,
      spec.kind,
      `\`${tomlValue(spec.kind, spec.default)}\``,
      RELOAD_WORD[spec.reload ?? "live"],
      spec.doc.replaceAll("|", "\\|"),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return ["| setting | env / flag | kind | default | on reload | what |", "|---|---|---|---|---|---|", ...rows].join(
    "\n",
  ) + "\n";
}

/** The effective configuration as TOML, each line commented with where its value came from. */
export function effectiveToml(settings: Settings, origins: Record<keyof Settings, Origin>, file?: string): string {
  const lines = SETTING_NAMES.map((name) => {
    const origin = origins[name];
    const where = origin === "file" ? `file ${file}` : origin === "env" ? `env ${envName(name)}` : origin === "flag" ? `flag --${flagName(name)}` : "default";
    return `${name} = ${tomlValue(SETTING_SPECS[name].kind, settings[name])}  # ${where}`;
  });
  return lines.join("\n") + "\n";
}

/** The markers around the generated settings table in `docs/operations.md`. */
export const SETTINGS_TABLE_MARKERS = ["<!-- settings table: generated, do not edit -->", "<!-- end of settings table -->"];

/** `doc` with the text between the settings table markers replaced by a fresh table. */
export function withSettingsTable(doc: string): string {
  const [begin, end] = SETTINGS_TABLE_MARKERS;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the settings table markers are missing: ${begin} ... ${end}`);
  return doc.slice(0, from + begin.length) + "\n" + settingsMarkdown() + doc.slice(to);
}
