/**
 * Trace ids for error frames: every `error` the server sends carries a
 * `trace` that also appears in the log line written for it, so a user's
 * report ("I got text_too_long, trace k3f9x2-1c") leads to the log line with
 * the connection id, peer address and nick.
 *
 * @module
 */
import type { ErrorCode, ErrorFrame } from "../protocol/server_frames.ts";
import { log } from "./log.ts";
import { type LogThrottle, SUPPRESSED } from "./log_throttle.ts";

const logger = log("errors");

/** Unique per process start, so traces from different runs never collide. */
const BOOT = Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, "0");
let next = 0;

/** A new trace id: `<boot>-<counter>`, both base 36. */
export function newTraceId(): string {
  return `${BOOT}-${(++next).toString(36)}`;
}

/** Errors that close the connection or report a limit: logged at info; the rest at debug. */
const NOTABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "server_full",
  "rate_limited",
  "frame_too_large",
  "text_too_long",
  "too_many_rooms",
]);

/** Who a log line is about: connection id (null before one is made), peer address, nick (`-` before hello). */
export type ConnectionFields = {
  conn: number | null;
  peer: string;
  nick: string;
};

/**
 * Returns a copy of `frame` with a new `trace`, and logs it with `who`.
 * With a `throttle` (the connection's), a code logged for this connection
 * less than a second ago is not logged again; the next line for it carries
 * `suppressed`, how many were left out (their traces are not in the log).
 */
export function traceError(frame: ErrorFrame, who: ConnectionFields, throttle?: LogThrottle, now = 0): ErrorFrame {
  const traced: ErrorFrame = { ...frame, trace: newTraceId() };
  const level = NOTABLE.has(frame.code) ? "info" : "debug";
  // Only lines that would be written are throttled, so a suppressed count is always of lines someone would see.
  if (!logger.isEnabledFor(level)) return traced;
  const suppressed = throttle ? throttle.admit(frame.code, now) : 0;
  if (suppressed === SUPPRESSED) return traced;
  const properties = {
    code: frame.code,
    trace: traced.trace,
    ...who,
    message: frame.message,
    ...(suppressed > 0 ? { suppressed } : {}),
  };
  const template = "error {code} sent, trace {trace}";
  if (level === "info") logger.info(template, properties);
  else logger.debug(template, properties);
  return traced;
}
