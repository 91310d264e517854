/**
 * One logging setup (LogTape) for every command: readable lines for people,
 * JSON lines for machines, always on stderr so stdout stays for output that
 * scripts read; optionally also appended to a log file.
 *
 * A pretty line shows the message and then every property the message does
 * not already show (`key=value`), so ids passed as properties are on every
 * line in both formats.
 *
 * @module
 */
import {
  configureSync,
  type FormattedValues,
  getAnsiColorFormatter,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type LogLevel,
  type Logger,
  type LogRecord,
  resetSync,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { type AppendFn, LogFileWriter, type LogFileStats } from "./log_file.ts";

/** How log lines look, where they go. */
export interface LogSetup {
  level: LogLevel;
  /** Stderr: `pretty` for a terminal (colour when `color`), `json` one object a line. */
  format: "pretty" | "json";
  color?: boolean;
  /**
   * How lines reach stderr: an async write that never blocks (the runtime
   * layer's `writeStderr`). Lines are then queued with a bound and dropped,
   * counted, when stderr is broken or nobody reads it, so logging can never
   * stall or kill the server. Without it, `console.error` (for tools and tests).
   */
  stderr?: (bytes: Uint8Array) => Promise<void>;
  /** Also append every line to this file. */
  file?: { path: string; format: "pretty" | "json"; append: AppendFn };
}

const jsonLines = getJsonLinesFormatter();

/** `time [LEVEL] category: message key=value ...` with the properties the message did not show. */
function prettyLine({ timestamp, level, category, message, record }: FormattedValues): string {
  return `${timestamp} [${level}] ${category}: ${message}${unshownProperties(record)}`;
}

function unshownProperties(record: LogRecord): string {
  const template = typeof record.rawMessage === "string" ? record.rawMessage : record.rawMessage.join("");
  let out = "";
  for (const [key, value] of Object.entries(record.properties)) {
    if (template.includes(`{${key}}`)) continue;
    out += ` ${key}=${typeof value === "string" && value !== "" && !/\s/.test(value) ? value : JSON.stringify(value)}`;
  }
  return out;
}

function formatterFor(format: "pretty" | "json", color = false): TextFormatter {
  if (format === "json") return jsonLines;
  return color
    ? getAnsiColorFormatter({ value: "bare", format: prettyLine })
    : getTextFormatter({ value: "bare", format: prettyLine });
}

let fileWriter: LogFileWriter | null = null;
let logNode: string | undefined;

/** Puts `node` (a cluster node's id) on every log line from now on. */
export function setLogNode(node: string): void {
  logNode = node;
}
let stderrWriter: LogFileWriter | null = null;

/** Configures LogTape for the process; later calls replace the setup (used by reload). */
export function setupLogging(setup: LogSetup): void {
  const toStderr = formatterFor(setup.format, setup.color);
  const sinks: Record<string, Sink> = { stderr: (record) => console.error(toStderr(record).trimEnd()) };
  if (setup.stderr) {
    const write = setup.stderr;
    // The same bounded, one-in-flight writer as the log file; trouble with stderr cannot be told on stderr.
    stderrWriter ??= new LogFileWriter("<stderr>", (_path, bytes) => write(bytes), () => {});
    const writer = stderrWriter;
    sinks.stderr = (record) => writer.write(toStderr(record));
  }
  if (setup.file) {
    // One writer for the process: a reload may change its path, but lines it holds are not lost.
    fileWriter ??= new LogFileWriter(setup.file.path, setup.file.append, reportFileTrouble);
    fileWriter.path = setup.file.path;
    const toFile = formatterFor(setup.file.format);
    const writer = fileWriter;
    sinks.file = (record) => writer.write(toFile(record));
  }
  // A cluster node's id goes on every line (set later, by setLogNode, so read per line).
  for (const [name, sink] of Object.entries(sinks)) {
    sinks[name] = (record) => sink(logNode === undefined ? record : { ...record, properties: { node: logNode, ...record.properties } });
  }
  resetSync();
  configureSync({
    sinks,
    loggers: [
      { category: ["tcpchat"], lowestLevel: setup.level, sinks: Object.keys(sinks) },
      // Trouble with the log file goes to stderr only.
      { category: ["tcpchat", "log_file"], lowestLevel: "warning", sinks: ["stderr"], parentSinks: "override" },
      // LogTape reports its own problems here; keep them visible but quiet.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function reportFileTrouble(path: string, error: Error | null): void {
  const logger = log("log_file");
  if (error) {
    logger.warning("cannot write log file {path}: {error}; lines are dropped until it works again", {
      path,
      error: error.message,
    });
  } else {
    logger.warning("log file {path} is writable again", { path });
  }
}

/** Counters about the log file (zeros when there is none). */
export function logFileStats(): LogFileStats {
  return fileWriter?.stats ?? { errors: 0, droppedLines: 0 };
}

/** Waits, up to `timeoutMs`, until stderr and the log file have every line logged so far. */
export async function flushLogging(timeoutMs = 1000): Promise<void> {
  const writers = [fileWriter, stderrWriter].filter((w) => w !== null);
  if (writers.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(writers.map((w) => w.flush())),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}

/** A logger under the `tcpchat` category, e.g. `log("server")`. */
export function log(...category: string[]): Logger {
  return getLogger(["tcpchat", ...category]);
}
