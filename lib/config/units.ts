/**
 * Human units for settings: durations (`250ms`, `30s`, `15m`, `1h`) and byte
 * sizes (`64KiB`, `1MiB`). A bare number means milliseconds or bytes.
 *
 * @module
 */

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1_000_000,
  mib: 1024 * 1024,
  gb: 1_000_000_000,
  gib: 1024 ** 3,
};

function parseWithUnits(raw: unknown, units: Record<string, number>): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) && raw >= 0 ? Math.round(raw) : undefined;
  if (typeof raw !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!match) return undefined;
  const unit = match[2].toLowerCase();
  const factor = unit === "" ? 1 : units[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(match[1]) * factor);
}

/** Milliseconds in a duration such as `250ms`, `30s`, `1.5m`, `2h` or `500`; undefined if unreadable. */
export function parseDuration(raw: unknown): number | undefined {
  return parseWithUnits(raw, DURATION_MS);
}

/** Bytes in a size such as `16384`, `64KiB`, `1MiB` or `1MB`; undefined if unreadable. */
export function parseByteSize(raw: unknown): number | undefined {
  return parseWithUnits(raw, SIZE_BYTES);
}

/** The shortest exact way to write `ms` with a unit: `30s`, `15m`, `250ms`. */
export function formatDuration(ms: number): string {
  return formatWithUnits(ms, [["h", 3_600_000], ["m", 60_000], ["s", 1000]], "ms");
}

/** The shortest exact way to write `bytes` with a binary unit: `16KiB`, `1MiB`, `1000`. */
export function formatByteSize(bytes: number): string {
  return formatWithUnits(bytes, [["GiB", 1024 ** 3], ["MiB", 1024 * 1024], ["KiB", 1024]], "");
}

function formatWithUnits(n: number, units: [string, number][], bare: string): string {
  for (const [unit, factor] of units) if (n !== 0 && n % factor === 0) return `${n / factor}${unit}`;
  return `${n}${bare}`;
}
