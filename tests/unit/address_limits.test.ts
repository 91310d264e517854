/**
 * Per-address limits (PROTOCOL section 16) with a fake clock: the connection
 * rate, the frame bucket shared by every connection of an address, the
 * loopback exemption, and the table's bound.
 */
import { describe, expect, test } from "bun:test";
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { SPENDS_TOKEN, takeTokens, type TokenHolder } from "../../lib/hub/frame_cost.ts";
import { newBucket } from "../../lib/hub/rate_limiter.ts";
import { type Admission, addressKey, AddressLimits } from "../../lib/server/address_limits.ts";

const settings = (over: Partial<Settings> = {}): Settings => ({ ...defaultSettings(), per_ip_exempt_loopback: false, ...over });
const admitted = (a: Admission) => {
  if (!a.ok) throw new Error(`refused for ${a.retryAfterMs} ms`);
  return a.bucket!;
};

describe("connection rate per address", () => {
  test("a burst of connect_burst_per_ip, then connect_rate_per_ip per second, with retry_after_ms", () => {
    const limits = new AddressLimits(settings({ connect_rate_per_ip: 10, connect_burst_per_ip: 20 }));
    for (let i = 0; i < 20; i++) expect(limits.admit("203.0.113.7", 0).ok).toBe(true);
    expect(limits.admit("203.0.113.7", 0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(limits.admit("198.51.100.1", 0).ok).toBe(true); // Another address is not affected.
    expect(limits.admit("203.0.113.7", 100).ok).toBe(true);
    expect(limits.admit("203.0.113.7", 100).ok).toBe(false);
  });

  test("loopback is exempt while per_ip_exempt_loopback is true", () => {
    const limits = new AddressLimits(settings({ per_ip_exempt_loopback: true, connect_burst_per_ip: 1 }));
    for (let i = 0; i < 100; i++) expect(limits.admit("127.0.0.2", 0)).toEqual({ ok: true, bucket: null });
    expect(limits.size).toBe(0);
  });
});

describe("frame bucket shared per address", () => {
  test("every connection from one address draws on one bucket: reconnecting buys no fresh burst", () => {
    const s = settings({ rate_per_s: 5, burst: 10, ip_rate_per_s: 20, ip_burst: 40, connect_burst_per_ip: 1000 });
    const limits = new AddressLimits(s);
    let accepted = 0;
    // 100 connections in a row, each spending its own full burst of 10.
    for (let conn = 0; conn < 100; conn++) {
      const holder: TokenHolder = { ...newBucket(s.burst, 0), addressBucket: admitted(limits.admit("203.0.113.7", conn * 5)) };
      for (let i = 0; i < 10; i++) if (takeTokens(holder, s, conn * 5) === 0) accepted++;
      limits.release("203.0.113.7");
    }
    // 500 ms passed: at most ip_burst + ip_rate_per_s x 0.5 s.
    expect(accepted).toBeLessThanOrEqual(40 + 20 * 0.5 + 1);
    expect(accepted).toBeGreaterThanOrEqual(40);
  });

  test("a frame refused by the address bucket does not spend the connection's token", () => {
    const s = settings({ rate_per_s: 5, burst: 10, ip_rate_per_s: 1, ip_burst: 1 });
    const holder: TokenHolder = { ...newBucket(10, 0), addressBucket: newBucket(1, 0) };
    expect(takeTokens(holder, s, 0)).toBe(0);
    expect(takeTokens(holder, s, 0)).toBe(1000);
    expect(holder.tokens).toBe(9);
  });

  test("nick spends a token, and so will topic, mode, kick, ban and invite; who and ping do not", () => {
    for (const type of ["msg", "dm", "join", "nick", "status", "topic", "mode", "kick", "ban", "invite"]) {
      expect(SPENDS_TOKEN.has(type)).toBe(true);
    }
    for (const type of ["who", "rooms", "ping", "pong", "leave", "hello", "quit"]) expect(SPENDS_TOKEN.has(type)).toBe(false);
  });
});

describe("bounded memory", () => {
  test("an idle address is forgotten once its buckets refilled; one with an open connection is kept", () => {
    const limits = new AddressLimits(settings());
    admitted(limits.admit("203.0.113.7", 0));
    admitted(limits.admit("203.0.113.8", 0));
    limits.release("203.0.113.8");
    limits.sweep(1999);
    expect(limits.size).toBe(2);
    limits.sweep(2000); // 40 / 20 per s and 20 / 10 per s: both refilled after 2 s.
    expect(limits.size).toBe(1);
  });

  test("past max_tracked_addresses the least recently used idle address is forgotten", () => {
    const limits = new AddressLimits(settings({ max_tracked_addresses: 3 }));
    admitted(limits.admit("10.0.0.1", 0)); // Stays open.
    for (const host of ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]) {
      admitted(limits.admit(host, 0));
      limits.release(host);
    }
    expect(limits.size).toBe(3);
    // The open one survived eviction: its connection count is still there to release.
    limits.release("10.0.0.1");
    limits.sweep(10_000);
    expect(limits.size).toBe(0);
  });

  test("IPv6 addresses share limits per /64; IPv4-mapped addresses count as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});
