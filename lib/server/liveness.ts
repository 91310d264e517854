/**
 * Liveness rules as one pure function: given a connection's timestamps and
 * the settings, what should happen now. One periodic sweep applies it to every
 * connection, instead of a timer per connection.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";

/** The timestamps liveness looks at (ms; 0 means "never"). */
export interface LivenessState {
  dialect: "unknown" | "json" | "text" | "irc";
  registered: boolean;
  connectedAt: number;
  lastInboundAt: number;
  lastPingAt: number;
  /** When the write now in flight started; 0 when none is. */
  writeStartedAt: number;
}

/** What the sweep should do with a connection. */
export type LivenessVerdict = "ok" | "ping" | "timeout" | "register_timeout" | "write_timeout";

/** The settings liveness reads. */
export type LivenessSettings = Pick<
  Settings,
  "heartbeat_interval" | "heartbeat_max_missed" | "text_idle_timeout" | "register_timeout" | "write_timeout"
>;

/** Decides what to do with one connection at `now`. */
export function checkLiveness(state: LivenessState, s: LivenessSettings, now: number): LivenessVerdict {
  if (state.writeStartedAt > 0 && now - state.writeStartedAt >= s.write_timeout) return "write_timeout";
  if (!state.registered) return now - state.connectedAt >= s.register_timeout ? "register_timeout" : "ok";
  const silentMs = now - state.lastInboundAt;
  if (state.dialect === "text") return silentMs >= s.text_idle_timeout ? "timeout" : "ok";
  if (silentMs >= s.heartbeat_interval * s.heartbeat_max_missed) return "timeout";
  const sincePingOrInput = now - Math.max(state.lastPingAt, state.lastInboundAt);
  return silentMs >= s.heartbeat_interval && sincePingOrInput >= s.heartbeat_interval ? "ping" : "ok";
}

/** How often the sweep should run: a fraction of the shortest deadline, within 50 ms and 1 s. */
export function sweepIntervalMs(s: LivenessSettings): number {
  const shortest = Math.min(s.heartbeat_interval, s.text_idle_timeout, s.register_timeout, s.write_timeout);
  return Math.min(1000, Math.max(50, Math.floor(shortest / 4)));
}
