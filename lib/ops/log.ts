/**
 * One logging setup (LogTape) for every command: readable lines for people,
 * JSON lines for machines, always on stderr so stdout stays for output that
 * scripts read.
 *
 * @module
 */
import {
  configureSync,
  getAnsiColorFormatter,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type LogLevel,
  type Logger,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";

/** How log lines look: `pretty` for a terminal (colour when `color`), `json` one object a line. */
export interface LogSetup {
  level: LogLevel;
  format: "pretty" | "json";
  color?: boolean;
}

/** Configures LogTape for the process; later calls replace the setup (used by reload). */
export function setupLogging(setup: LogSetup): void {
  const formatter = setup.format === "json"
    ? jsonLinesFormatter
    : setup.color
    ? getAnsiColorFormatter({ value: "bare" })
    : getTextFormatter({ value: "bare" });
  resetSync();
  configureSync({
    sinks: { stderr: (record: LogRecord) => console.error(formatter(record).trimEnd()) },
    loggers: [
      { category: ["tcpchat"], lowestLevel: setup.level, sinks: ["stderr"] },
      // LogTape reports its own problems here; keep them visible but quiet.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** A logger under the `tcpchat` category, e.g. `log("server")`. */
export function log(...category: string[]): Logger {
  return getLogger(["tcpchat", ...category]);
}
