import { describe, expect, test } from "bun:test";
import { carriesPassword, plaintextAuthRefusal } from "../../lib/server/plaintext_auth.ts";
import { resolveConfig } from "../../lib/config/sources.ts";

const TLS_ON = { tls_listen: "0.0.0.0:7443", plaintext_auth: "loopback" as const };
const hello = { type: "hello", nick: "ann", password: "hunter2hunter2", id: "h1" };

describe("plaintext_auth", () => {
  test("a password over plain TCP from another host is refused with tls_required, naming the TLS port and keeping the id", () => {
    const refusal = plaintextAuthRefusal(TLS_ON, "tcp", "203.0.113.9", hello);
    expect(refusal).toMatchObject({ type: "error", code: "tls_required", id: "h1" });
    expect(refusal!.message).toContain("7443");
    expect(refusal!.message).not.toContain("hunter2");
    expect(plaintextAuthRefusal(TLS_ON, "tcp", "2001:db8::1", hello, 9443)!.message).toContain("9443");
  });

  test("TLS, loopback peers, plaintext_auth=allow, a server without TLS and frames without a password all pass", () => {
    expect(plaintextAuthRefusal(TLS_ON, "tls", "203.0.113.9", hello)).toBeNull();
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"]) {
      expect(plaintextAuthRefusal(TLS_ON, "tcp", host, hello)).toBeNull();
    }
    expect(plaintextAuthRefusal({ ...TLS_ON, plaintext_auth: "allow" }, "tcp", "203.0.113.9", hello)).toBeNull();
    expect(plaintextAuthRefusal({ ...TLS_ON, tls_listen: "" }, "tcp", "203.0.113.9", hello)).toBeNull();
    expect(plaintextAuthRefusal(TLS_ON, "tcp", "203.0.113.9", { type: "hello", nick: "ann" })).toBeNull();
  });

  test("every password-carrying field counts: password and new_password, in any frame type", () => {
    expect(carriesPassword({ type: "register", password: "x" })).toBe(true);
    expect(carriesPassword({ type: "passwd", new_password: "x" })).toBe(true);
    expect(carriesPassword({ type: "nick", nick: "ann" })).toBe(false);
    expect(carriesPassword({ type: "msg", text: "my password is x" })).toBe(false);
  });
});

describe("TLS settings", () => {
  const problems = (flags: Record<string, string>) => {
    try {
      resolveConfig({ flags });
      return "";
    } catch (error) {
      return (error as Error).message;
    }
  };

  test("a certificate without its key, a key without its certificate, and a listener without files are refused", () => {
    expect(problems({ tls_cert: "a.crt" })).toBe("command line: --tls-cert: is set but tls_key is not: give both the certificate and its key");
    expect(problems({ tls_key: "a.key" })).toBe("command line: --tls-key: is set but tls_cert is not: give both the certificate and its key");
    expect(problems({ tls_listen: "0.0.0.0:7443" })).toBe("command line: --tls-listen: needs tls_cert and tls_key (PEM files)");
    expect(problems({ plaintext_auth: "never" })).toContain("must be loopback or allow");
  });

  test("a complete TLS configuration, or none, is accepted (a pair without a listener leaves TLS off)", () => {
    expect(problems({ tls_listen: "0.0.0.0:7443", tls_cert: "a.crt", tls_key: "a.key", plaintext_auth: "allow" })).toBe("");
    expect(problems({ tls_cert: "a.crt", tls_key: "a.key" })).toBe("");
    expect(problems({})).toBe("");
  });
});
