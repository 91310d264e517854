import { describe, expect, test } from "bun:test";
import { defaultSettings } from "../../lib/config/settings.ts";
import { checkLiveness, type LivenessState } from "../../lib/server/liveness.ts";

const s = { ...defaultSettings(), heartbeat_interval: 1000, heartbeat_max_missed: 3, register_timeout: 5000 };
const base: LivenessState = {
  dialect: "json",
  registered: true,
  connectedAt: 0,
  lastInboundAt: 0,
  lastPingAt: 0,
  writeStartedAt: 0,
};

describe("liveness", () => {
  test("a silent json connection is pinged once per interval, then timed out", () => {
    expect(checkLiveness(base, s, 999)).toBe("ok");
    expect(checkLiveness(base, s, 1000)).toBe("ping");
    expect(checkLiveness({ ...base, lastPingAt: 1000 }, s, 1500)).toBe("ok");
    expect(checkLiveness({ ...base, lastPingAt: 1000 }, s, 2000)).toBe("ping");
    expect(checkLiveness({ ...base, lastPingAt: 2000 }, s, 3000)).toBe("timeout");
  });

  test("any inbound frame resets the clock", () => {
    expect(checkLiveness({ ...base, lastInboundAt: 2500, lastPingAt: 2000 }, s, 3000)).toBe("ok");
  });

  test("text connections are not pinged but time out after text_idle_timeout", () => {
    const text = { ...base, dialect: "text" as const };
    expect(checkLiveness(text, s, s.text_idle_timeout - 1)).toBe("ok");
    expect(checkLiveness(text, s, s.text_idle_timeout)).toBe("timeout");
  });

  test("unregistered connections get register_timeout; stuck writes get write_timeout", () => {
    const fresh = { ...base, registered: false, dialect: "unknown" as const };
    expect(checkLiveness(fresh, s, 4999)).toBe("ok");
    expect(checkLiveness(fresh, s, 5000)).toBe("register_timeout");
    expect(checkLiveness({ ...base, writeStartedAt: 100, lastInboundAt: 10_000 }, s, 100 + s.write_timeout)).toBe(
      "write_timeout",
    );
  });
});
