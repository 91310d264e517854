import { expect, test } from "bun:test";
import { originAllowed } from "../../lib/server/ws_origin.ts";

test("by default only pages from the server's own host and port may open /ws", () => {
  expect(originAllowed("http://127.0.0.1:7780", "127.0.0.1:7780", "")).toBe(true);
  expect(originAllowed("http://CHAT.example.org", "chat.example.org", "")).toBe(true);
  expect(originAllowed("http://127.0.0.1:9999", "127.0.0.1:7780", "")).toBe(false);
  expect(originAllowed("https://evil.example", "127.0.0.1:7780", "")).toBe(false);
  expect(originAllowed("null", "127.0.0.1:7780", "")).toBe(false);
});

test("a program that sends no Origin is let in", () => {
  expect(originAllowed(null, "127.0.0.1:7780", "")).toBe(true);
  expect(originAllowed(null, null, "https://chat.example.org")).toBe(true);
});

test("ws_origins lists the allowed origins, default ports ignored, and * allows any", () => {
  const allowed = "https://chat.example.org, http://localhost:3000";
  expect(originAllowed("https://chat.example.org:443", "x", allowed)).toBe(true);
  expect(originAllowed("http://localhost:3000", "x", allowed)).toBe(true);
  expect(originAllowed("http://chat.example.org", "x", allowed)).toBe(false);
  expect(originAllowed("https://evil.example", "x", "*")).toBe(true);
});
