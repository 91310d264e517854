/**
 * Applies a freshly loaded configuration to the running one, in place: the
 * server, the hub and every connection hold the same settings object, so
 * assigning its fields is the whole update. Settings that need a restart keep
 * their running value.
 *
 * @module
 */
import { SETTING_NAMES, SETTING_SPECS, type Settings } from "./settings.ts";

/** A setting whose new value was not applied, with both values. */
export interface KeptSetting {
  name: keyof Settings;
  running: unknown;
  wanted: unknown;
}

/** What a reload changed. */
export interface ReloadOutcome {
  /** Settings now at their new value. */
  changed: (keyof Settings)[];
  /** Settings that differ but need a restart: left as they were. */
  needRestart: KeptSetting[];
}

/**
 * Copies every changed, reloadable value of `next` into `running`. Call only
 * with a validated `next`.
 */
export function applyReload(running: Settings, next: Settings): ReloadOutcome {
  const outcome: ReloadOutcome = { changed: [], needRestart: [] };
  const target = running as unknown as Record<string, unknown>;
  for (const name of SETTING_NAMES) {
    if (Object.is(running[name], next[name])) continue;
    if (SETTING_SPECS[name].reload === "restart") {
      outcome.needRestart.push({ name, running: running[name], wanted: next[name] });
    } else {
      target[name] = next[name];
      outcome.changed.push(name);
    }
  }
  return outcome;
}
