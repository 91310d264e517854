/**
 * TLS against the real server on every runtime: a TLS user and a plain TCP
 * user in one room, certificate reload on SIGHUP, handshakes that never
 * finish, garbage on the TLS port, shared connection limits, the
 * `plaintext_auth` rule, the client flags and the settings checks.
 * Certificates are made with openssl at test time (tests/support/tls_certs.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { TestClient } from "../support/chat_client.ts";
import { SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { binPath, REPO_ROOT } from "../support/runtimes.ts";
import { HAVE_TMUX, TerminalPane } from "../support/terminal.ts";
import { makeTestCerts, pem } from "../support/tls_certs.ts";

const certs = makeTestCerts();
const ca = pem(certs.ca);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A dir holding `tls.crt`/`tls.key` copied from a pair, so a test can replace them. */
function certDir(pair = certs.server): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-tls-e2e-"));
  dirs.push(dir);
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  copyFileSync(pair.cert, cert);
  copyFileSync(pair.key, key);
  return { dir, cert, key };
}

/** Server flags for a TLS listener on a free port with `files`. */
function tlsFlags(files: { cert: string; key: string }): string[] {
  return ["--tls-listen", "127.0.0.1:0", "--tls-cert", files.cert, "--tls-key", files.key];
}

/** The TLS port from the server's `listening tls HOST:PORT` line. */
async function tlsPort(server: { waitForLine(pattern: RegExp): Promise<string> }): Promise<number> {
  const line = await server.waitForLine(/^listening tls /);
  return Number(line.slice(line.lastIndexOf(":") + 1));
}

/** The certificate's common name a new TLS connection is served. */
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** A raw TCP connection that never starts a TLS handshake (or starts one and stops). */
function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves once the server closed `socket` (FIN or reset); rejects after `timeoutMs`. */
function serverCloses(socket: net.Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  socket.on("error", () => {});
  socket.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** JSON log lines of a server. */
function logLines(stderr: string): { message: string; properties: Record<string, unknown> }[] {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

/** Runs `tcpchat` (under bun) to completion. */
async function tcpchat(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([binPath("bun"), "main.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A non-loopback IPv4 address of this machine, to be a "remote" peer; undefined when there is none. */
const OUTSIDE_ADDRESS = Object.values(networkInterfaces()).flat().find((a) => a?.family === "IPv4" && !a.internal)?.address;

describe.each(SERVER_RUNTIMES)("TLS (%s)", (runtime) => {
  test("a TLS user and a plain TCP user talk in the same room, in every dialect", async () => {
    await using server = await startChatServer(runtime, tlsFlags(certDir()));
    const port = await tlsPort(server);
    const alice = await TestClient.connectTls(port, { ca });
    alice.send({ type: "hello", nick: "alice" });
    await alice.waitFor((f) => f.type === "join" && f.nick === "alice");
    const bob = await TestClient.register(server.port, "bob");
    await alice.waitFor((f) => f.type === "join" && f.nick === "bob");
    expect(await alice.request({ type: "msg", room: "lobby", text: "over TLS" })).toMatchObject({ type: "msg" });
    expect(await bob.waitFor((f) => f.type === "msg")).toMatchObject({ from: "alice", text: "over TLS" });
    bob.send({ type: "msg", room: "lobby", text: "over TCP" });
    expect(await alice.waitFor((f) => f.type === "msg" && f.from === "bob")).toMatchObject({ text: "over TCP" });

    // A silent person over TLS is greeted in text once the handshake is done, and chats in text.
    const carol = await TestClient.connectTls(port, { ca });
    await carol.waitForLine(/nick/i);
    carol.send("carol\r\n");
    await alice.waitFor((f) => f.type === "join" && f.nick === "carol");
    carol.send("hello from telnet-over-TLS\r\n");
    expect(await bob.waitFor((f) => f.type === "msg" && f.from === "carol")).toMatchObject({ text: "hello from telnet-over-TLS" });
    // An IRC client over TLS (irssi -tls, WeeChat -tls) is detected as on the plain port.
    const dave = await TestClient.connectTls(port, { ca });
    dave.send("NICK dave\r\nUSER dave 0 * :Dave\r\n");
    await dave.waitForLine(/ 001 dave /);
    await dave.waitForLine(/ 366 dave #lobby /);
    dave.send("PRIVMSG #lobby :irc over tls\r\n");
    expect(await bob.waitFor((f) => f.type === "msg" && f.from === "dave")).toMatchObject({ text: "irc over tls" });
    for (const client of [alice, bob, carol, dave]) client.destroy();
  });

  test("SIGHUP serves new TLS connections the renewed certificate; a mismatched pair is logged and the old one kept", async () => {
    const files = certDir();
    await using server = await startChatServer(runtime, tlsFlags(files));
    const port = await tlsPort(server);
    expect(await servedCommonName(port)).toBe("tcpchat-test-1");
    const alice = await TestClient.connectTls(port, { ca });
    alice.send({ type: "hello", nick: "alice" });
    await alice.waitFor((f) => f.type === "welcome");

    copyFileSync(certs.server2.cert, files.cert);
    copyFileSync(certs.server2.key, files.key);
    server.signal("SIGHUP");
    await server.waitForLog("TLS certificate reloaded");
    expect(await servedCommonName(port)).toBe("tcpchat-test-2");

    // The old certificate with the new key: refused, the renewed pair stays in use.
    copyFileSync(certs.server.cert, files.cert);
    server.signal("SIGHUP");
    await server.waitForLog("TLS certificate reload failed");
    expect(await servedCommonName(port)).toBe("tcpchat-test-2");
    // An unreadable file is refused the same way.
    rmSync(files.key);
    server.signal("SIGHUP");
    await server.waitForLog("cannot read");
    expect(await servedCommonName(port)).toBe("tcpchat-test-2");
    // The user connected before the reloads never noticed.
    expect(await alice.request({ type: "msg", room: "lobby", text: "still here" })).toMatchObject({ type: "msg" });
    alice.destroy();
  });

  test("handshakes that never finish count against max_connections and are cut at register_timeout", async () => {
    await using server = await startChatServer(runtime, [
      ...tlsFlags(certDir()),
      "--register-timeout",
      "2s",
      "--max-connections",
      "2",
    ]);
    const port = await tlsPort(server);
    const silent = await rawConnect(port);
    // A ClientHello record header and nothing more: a handshake begun and never finished.
    const halfway = await rawConnect(port);
    halfway.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const silentClosed = serverCloses(silent, 6000);
    const halfwayClosed = serverCloses(halfway, 6000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Both slots are taken by handshakes, on the other listener too.
    const third = await TestClient.connect(server.port);
    expect(await third.next()).toMatchObject({ type: "error", code: "server_full" });
    // Refused over TLS: told once its handshake is done, or closed soon if it never finishes one.
    const refusedTls = await TestClient.connectTls(port, { ca });
    expect(await refusedTls.next()).toMatchObject({ type: "error", code: "server_full" });
    // (Well before the two holding the slots are cut at 2 s.)
    expect(await serverCloses(await rawConnect(port), 1800)).toBeLessThan(1800);
    const [silentMs, halfwayMs] = await Promise.all([silentClosed, halfwayClosed]);
    for (const ms of [silentMs, halfwayMs]) {
      expect(ms).toBeGreaterThanOrEqual(1800);
      expect(ms).toBeLessThan(4500);
    }
    const cutCount = () =>
      logLines(server.stderr()).filter((l) => l.message.startsWith("disconnect") && l.properties.reason === "register_timeout").length;
    // The log line may trail the close by a moment.
    for (const deadline = Date.now() + 2000; cutCount() < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(cutCount()).toBe(2);
    // The slots are free again.
    const next = await TestClient.register(server.port, "after");
    next.destroy();
  });

  test("max_per_ip counts plain and TLS connections from one address together", async () => {
    await using server = await startChatServer(runtime, [...tlsFlags(certDir()), "--max-per-ip", "2", "--per-ip-exempt-loopback", "false"]);
    const port = await tlsPort(server);
    const plain = await TestClient.register(server.port, "plain");
    const secure = await TestClient.connectTls(port, { ca });
    secure.send({ type: "hello", nick: "secure" });
    await secure.waitFor((f) => f.type === "welcome");
    for (const third of [await TestClient.connectTls(port, { ca }), await TestClient.connect(server.port)]) {
      const refused = await third.next();
      expect(refused).toMatchObject({ type: "error", code: "server_full" });
      expect(refused.message).toContain("too many connections from 127.0.0.1");
      await third.waitClosed();
    }
    for (const client of [plain, secure]) client.destroy();
  });

  test("garbage on the TLS port closes that connection only", async () => {
    await using server = await startChatServer(runtime, tlsFlags(certDir()));
    const port = await tlsPort(server);
    const alice = await TestClient.connectTls(port, { ca });
    alice.send({ type: "hello", nick: "alice" });
    await alice.waitFor((f) => f.type === "welcome");
    for (const garbage of ['{"type":"hello","nick":"plain"}\n', "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x00\xff\x16\x03\x09garbage"]) {
      const socket = await rawConnect(port);
      const closed = serverCloses(socket, 3000);
      socket.write(garbage, "latin1");
      await closed;
    }
    expect(await alice.request({ type: "msg", room: "lobby", text: "unharmed" })).toMatchObject({ type: "msg" });
    await server.waitForLog('"reason":"tls_handshake"');
    alice.destroy();
  });
});

describe("TLS clients and settings", () => {
  test("tcpchat send verifies against --ca, refuses an unknown CA and a wrong host name, and --insecure skips the checks", async () => {
    await using good = await startChatServer("bun", tlsFlags(certDir()));
    const goodPort = await tlsPort(good);
    const watcher = await TestClient.register(good.port, "watcher");
    const send = (port: number, ...flags: string[]) =>
      tcpchat(["send", `127.0.0.1:${port}`, "--nick", "sender", "--room", "lobby", ...flags, "hello over TLS"]);

    const trusted = await send(goodPort, "--ca", certs.ca);
    expect(trusted.code).toBe(0);
    expect(await watcher.waitFor((f) => f.type === "msg")).toMatchObject({ from: "sender", text: "hello over TLS" });

    const unknownCa = await send(goodPort, "--tls");
    expect(unknownCa.code).toBe(1);
    expect(unknownCa.stderr).toMatch(/TLS connection to 127\.0\.0\.1:\d+ failed: .*certificate/i);

    await using wrong = await startChatServer("bun", tlsFlags(certDir(certs.wrongHost)));
    const wrongPort = await tlsPort(wrong);
    const wrongName = await send(wrongPort, "--ca", certs.ca);
    expect(wrongName.code).toBe(1);
    expect(wrongName.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|does not match|altnames/i);
    expect((await send(wrongPort, "--insecure")).code).toBe(0);

    const both = await send(goodPort, "--ca", certs.ca, "--insecure");
    expect(both.code).toBe(2);
    watcher.destroy();
  }, 20_000); // two servers and five client processes: seconds on a loaded 2-core machine

  test("tcpchat bench --ca drives the TLS port: every message reaches every subscriber", async () => {
    await using server = await startChatServer("bun", [...tlsFlags(certDir()), "--rate-per-s", "0", "--default-room", ""]);
    const port = await tlsPort(server);
    const run = await tcpchat([
      "bench", `127.0.0.1:${port}`, "--ca", certs.ca, "--subs", "3", "--warmup", "0", "--duration", "500ms", "--json", "-q",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.totals.sent).toBeGreaterThan(0);
    expect(result.totals.deliveries).toBe(result.totals.sent * 3);
    expect(result.problems.first_problem).toBeNull();
    // The plain port is not TLS: a TLS bench against it fails to set up, with exit 1.
    expect((await tcpchat(["bench", `127.0.0.1:${server.port}`, "--insecure", "--subs", "1", "--setup-timeout", "2s", "-q"])).code).toBe(1);
  }, 15_000);

  test("bad TLS settings stop the server with a clear error and exit 2", async () => {
    const files = certDir();
    const cases: [string[], RegExp][] = [
      [["--tls-listen", "127.0.0.1:0"], /--tls-listen: needs tls_cert and tls_key/],
      [["--tls-cert", files.cert], /--tls-cert: is set but tls_key is not/],
      [["--tls-listen", "127.0.0.1:0", "--tls-key", files.key], /--tls-key: is set but tls_cert is not/],
      [["--tls-listen", "127.0.0.1:0", "--tls-cert", files.cert, "--tls-key", certs.server2.key], /key does not match the certificate/],
      [["--tls-listen", "127.0.0.1:0", "--tls-cert", join(files.dir, "missing.crt"), "--tls-key", files.key], /tls_cert .*missing\.crt: cannot read/],
      [["--tls-listen", "nowhere"], /--tls-listen: must be HOST:PORT/],
      [["--plaintext-auth", "sometimes"], /--plaintext-auth: must be loopback or allow/],
    ];
    for (const [flags, message] of cases) {
      const result = await tcpchat(["serve", "--config", "", "--port", "0", ...flags]);
      expect({ flags, code: result.code }).toEqual({ flags, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });

  test.skipIf(OUTSIDE_ADDRESS === undefined)(
    "a password over plain TCP from another host gets tls_required; over TLS, from loopback or with plaintext_auth=allow it does not",
    async () => {
      const password = "correct horse battery staple";
      const files = certDir();
      await using server = await startChatServer("bun", ["--host", "0.0.0.0", ...tlsFlags(files)]);
      const port = await tlsPort(server);

      const remote = await TestClient.connect(server.port, { host: OUTSIDE_ADDRESS });
      const refused = await remote.request({ type: "hello", nick: "remote", password });
      expect(refused).toMatchObject({ type: "error", code: "tls_required" });
      expect(refused.message).toContain(String(port));
      // Still unregistered, and free to register without the password.
      expect(await remote.request({ type: "hello", nick: "remote" })).toMatchObject({ type: "welcome" });
      // Text dialect too (a password-carrying command, once accounts add them, is checked the same way).
      const local = await TestClient.connect(server.port);
      expect(await local.request({ type: "hello", nick: "local", password })).toMatchObject({ type: "welcome" });
      const secure = await TestClient.connectTls(port, { ca });
      expect(await secure.request({ type: "hello", nick: "secure", password })).toMatchObject({ type: "welcome" });

      // The CLI reads the password from the environment and reports the refusal.
      const cli = await tcpchat(["send", `${OUTSIDE_ADDRESS}:${server.port}`, "--nick", "cli", "--room", "lobby", "hi"], {
        TCPCHAT_PASSWORD: password,
      });
      expect(cli.code).toBe(3);
      expect(cli.stderr).toContain("tls_required");
      expect(cli.stdout + cli.stderr).not.toContain(password);
      expect(server.stdout() + server.stderr()).not.toContain(password);
      for (const client of [remote, local, secure]) client.destroy();

      await using allowing = await startChatServer("bun", ["--host", "0.0.0.0", ...tlsFlags(files), "--plaintext-auth", "allow"]);
      const allowed = await TestClient.connect(allowing.port, { host: OUTSIDE_ADDRESS });
      expect(await allowed.request({ type: "hello", nick: "remote", password })).toMatchObject({ type: "welcome" });
      allowed.destroy();
    },
  );
});

describe.skipIf(!HAVE_TMUX)("tcpchat connect over TLS in a terminal (tmux)", () => {
  test("--password-prompt asks without echo, and the session runs over TLS", async () => {
    await using server = await startChatServer("bun", tlsFlags(certDir()));
    const port = await tlsPort(server);
    using pane = TerminalPane.open(
      `tcpchat-tls-test-${process.pid}`,
      `cd ${REPO_ROOT} && ${binPath("bun")} main.ts connect 127.0.0.1:${port} --ca ${certs.ca} --nick ada --password-prompt; echo EXIT=$?; sleep 30`,
    );
    await pane.waitScreen(/password:/);
    pane.type("s3cret-typed");
    pane.keys("Enter");
    const shown = await pane.waitScreen(/connected to 127\.0\.0\.1:\d+ over TLS as ada/);
    expect(shown).not.toContain("s3cret");
    pane.keys("hello", "Enter");
    await pane.waitScreen(/<ada> hello/);
    pane.keys("C-d");
    await pane.waitScreen(/EXIT=0/);
    expect(server.stdout() + server.stderr()).not.toContain("s3cret");
  }, 20_000);
});
