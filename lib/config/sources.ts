/**
 * Where settings come from, and which wins: flags over environment over the
 * config file over the built-in defaults. The sources are plain inputs (file
 * text, an env lookup, raw flag strings), so {@linkcode resolveConfig} is pure
 * and every precedence case is a unit test. Each value from each source goes
 * through {@linkcode parseSetting}; the result is then checked whole against
 * {@linkcode SETTINGS_SCHEMA}.
 *
 * @example
 * ```ts
 * const { settings, origins } = resolveConfig({
 *   file: { path: "tcpchat.toml", text: 'port = 7000\nheartbeat_interval = "10s"' },
 *   env: (name) => ({ TCPCHAT_PORT: "7100" })[name],
 *   flags: { port: "7200" },
 * });
 * // settings.port === 7200, origins.port === "flag", origins.heartbeat_interval === "file"
 * ```
 *
 * @module
 */
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { applyDerivedDefaults, type Engine } from "./derived_defaults.ts";
import {
  defaultSettings,
  envName,
  flagName,
  parseSetting,
  SETTING_NAMES,
  SettingError,
  type Settings,
  SETTINGS_SCHEMA,
} from "./settings.ts";

/** Where a setting's effective value came from. */
export type Origin = "default" | "file" | "env" | "flag";

/** A setting's name. */
export type SettingName = keyof Settings;

/** The inputs {@linkcode resolveConfig} reads; each is optional. */
export interface ConfigSources {
  /** The config file, if there is one: its path (for messages) and its TOML text. */
  file?: { path: string; text: string };
  /** Environment lookup (`TCPCHAT_PORT`, ...). */
  env?: (name: string) => string | undefined;
  /** Raw flag values by setting name, as typed on the command line. */
  flags?: Partial<Record<SettingName, string>>;
  /** The runtime the settings are for: some defaults depend on it (derived_defaults.ts). */
  engine?: Engine;
}

/** The effective settings and where each value came from. */
export interface ResolvedConfig {
  settings: Settings;
  origins: Record<SettingName, Origin>;
  /** The config file read, if any. */
  file?: string;
}

/** One thing wrong with a configuration: where (file, env, flag), which key, and what was expected. */
export interface ConfigProblem {
  /** `tcpchat.toml`, `environment` or `command line`. */
  source: string;
  /** The key as written there (`max_text`, `TCPCHAT_MAX_TEXT`, `--max-text`); empty for the whole source. */
  key: string;
  /** What is wrong and what was expected. */
  detail: string;
}

/** A configuration that cannot be used; the message lists every problem, one a line. */
export class ConfigError extends Error {
  /** Stable code for scripts. */
  readonly code = "bad_config";
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

/** `source: key: detail`, the form every configuration error is shown in. */
export function formatProblem(p: ConfigProblem): string {
  return p.key === "" ? `${p.source}: ${p.detail}` : `${p.source}: ${p.key}: ${p.detail}`;
}

/** One raw value found in a source, before parsing. */
interface RawValue {
  name: SettingName;
  raw: unknown;
  origin: Exclude<Origin, "default">;
  source: string;
  key: string;
}

const ENV_SOURCE = "environment";
const FLAG_SOURCE = "command line";

/** Resolves the effective settings from `sources`. Throws {@linkcode ConfigError} listing every problem. */
export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const raws = [
    ...(sources.file ? fileValues(sources.file.path, sources.file.text, problems) : []),
    ...envValues(sources.env),
    ...flagValues(sources.flags ?? {}),
  ];
  const settings = defaultSettings() as unknown as Record<string, unknown>;
  const origins = Object.fromEntries(SETTING_NAMES.map((name) => [name, "default"])) as Record<SettingName, Origin>;
  const sourceOf = new Map<SettingName, RawValue>();
  // Lowest precedence first, so later sources overwrite earlier ones.
  for (const value of raws) {
    try {
      settings[value.name] = parseSetting(value.name, value.raw);
      origins[value.name] = value.origin;
      sourceOf.set(value.name, value);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      problems.push({ source: value.source, key: value.key, detail: error.detail });
    }
  }
  if (problems.length === 0) {
    const result = v.safeParse(SETTINGS_SCHEMA, settings);
    if (!result.success) {
      for (const issue of result.issues) {
        const name = String(issue.path?.[0]?.key ?? "") as SettingName;
        const from = sourceOf.get(name);
        problems.push({ source: from?.source ?? "defaults", key: from?.key ?? name, detail: issue.message });
      }
    }
  }
  if (problems.length === 0) problems.push(...tlsSettingProblems(settings as unknown as Settings, sourceOf));
  if (problems.length > 0) throw new ConfigError(problems);
  applyDerivedDefaults(settings as unknown as Settings, origins, sources.engine);
  return { settings: settings as unknown as Settings, origins, file: sources.file?.path };
}

/**
 * TLS settings go together: certificate and key come as a pair, and a TLS
 * listener needs that pair. (A pair without `tls_listen` is allowed: TLS is
 * then off, e.g. turned off with `--tls-listen ''` over a config file.)
 */
function tlsSettingProblems(settings: Settings, sourceOf: Map<SettingName, RawValue>): ConfigProblem[] {
  const at = (name: SettingName) => ({ source: sourceOf.get(name)?.source ?? "defaults", key: sourceOf.get(name)?.key ?? name });
  const problems: ConfigProblem[] = [];
  if (settings.tls_cert !== "" && settings.tls_key === "") {
    problems.push({ ...at("tls_cert"), detail: "is set but tls_key is not: give both the certificate and its key" });
  } else if (settings.tls_key !== "" && settings.tls_cert === "") {
    problems.push({ ...at("tls_key"), detail: "is set but tls_cert is not: give both the certificate and its key" });
  } else if (settings.tls_listen !== "" && settings.tls_cert === "") {
    problems.push({ ...at("tls_listen"), detail: "needs tls_cert and tls_key (PEM files)" });
  }
  return problems;
}

const KNOWN = new Set<string>(SETTING_NAMES);

/**
 * The settings in a TOML file. Keys are setting names; a table is read as a
 * prefix (`[heartbeat]` `interval = "10s"` is `heartbeat_interval`). Unknown
 * keys, keys set twice and TOML syntax errors become problems.
 */
function fileValues(path: string, text: string, problems: ConfigProblem[]): RawValue[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const where = error instanceof TomlError ? `line ${error.line}, column ${error.column}: ` : "";
    const first = (error as Error).message.split("\n")[0];
    problems.push({ source: path, key: "", detail: `${where}not valid TOML: ${first}` });
    return [];
  }
  const out: RawValue[] = [];
  const walk = (table: Record<string, unknown>, keyPrefix: string, namePrefix: string) => {
    for (const [key, raw] of Object.entries(table)) {
      const written = keyPrefix + key;
      const name = namePrefix + key;
      if (isTable(raw) && !KNOWN.has(name)) {
        walk(raw, `${written}.`, `${name}_`);
      } else if (!KNOWN.has(name)) {
        const guess = didYouMean(name);
        problems.push({ source: path, key: written, detail: `unknown setting${guess ? ` (did you mean ${guess}?)` : ""}` });
      } else if (out.some((seen) => seen.name === name)) {
        problems.push({ source: path, key: written, detail: `${name} is set twice` });
      } else {
        out.push({ name: name as SettingName, raw, origin: "file", source: path, key: written });
      }
    }
  };
  walk(doc, "", "");
  return out;
}

function isTable(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && !(raw instanceof Date);
}

function envValues(env: ConfigSources["env"]): RawValue[] {
  if (!env) return [];
  const out: RawValue[] = [];
  for (const name of SETTING_NAMES) {
    const raw = env(envName(name));
    if (raw !== undefined) out.push({ name, raw, origin: "env", source: ENV_SOURCE, key: envName(name) });
  }
  return out;
}

function flagValues(flags: Partial<Record<SettingName, string>>): RawValue[] {
  return SETTING_NAMES.filter((name) => flags[name] !== undefined).map((name) => ({
    name,
    raw: flags[name],
    origin: "flag",
    source: FLAG_SOURCE,
    key: `--${flagName(name)}`,
  }));
}

/** The setting name closest to `key` (kebab-case, upper case or a small typo), if any is close. */
export function didYouMean(key: string): string | undefined {
  const normal = key.toLowerCase().replaceAll("-", "_");
  if (KNOWN.has(normal)) return normal;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(normal.length / 3)) + 1;
  for (const name of SETTING_NAMES) {
    const d = editDistance(normal, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Levenshtein distance; the names are short, so the plain two-row table is enough. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
