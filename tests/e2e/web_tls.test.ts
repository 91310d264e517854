/**
 * `http_listen` over HTTPS: with a TLS listener configured (`http_tls` auto),
 * the page is served over https and WebSocket over wss with the same
 * certificate pair, on every runtime; a password over wss from another host
 * passes `plaintext_auth`; `http_tls` off keeps plain http; SIGHUP serves a
 * renewed pair to new connections, keeps a bad one out and open wss users on.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { type ClientOptions, WebSocket } from "ws";
import { connectWebSocket } from "../../lib/bench/ws_conn.ts";
import { createBunRuntime } from "../../lib/runtime/bun.ts";
import { type ChatServerProcess, SERVER_RUNTIMES, startChatServer } from "../support/chat_server.ts";
import { eventually } from "../support/eventually.ts";
import { makeTestCerts, pem } from "../support/tls_certs.ts";

const TEST_TIMEOUT_MS = 20_000;
const certs = makeTestCerts();
const ca = pem(certs.ca);
const OUTSIDE_ADDRESS = Object.values(networkInterfaces()).flat().find((a) => a?.family === "IPv4" && !a.internal)?.address;
const sockets: WebSocket[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const socket of sockets) socket.terminate();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The SHA-256 fingerprint of a certificate file, as `tls` reports a peer's. */
function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** The fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** The server's `web URL` line. */
function webUrl(server: ChatServerProcess): URL {
  const line = server.lines().find((l) => l.startsWith("web "));
  if (!line) throw new Error(`no web line in:\n${server.stdout()}`);
  return new URL(line.slice(4));
}

/** GET over https, trusting the test CA; resolves with status, headers and body. */
function httpsGet(port: number, path: string): Promise<{ status: number; csp: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    https.get({ host: "127.0.0.1", port, path, ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, csp: res.headers["content-security-policy"] as string, body }));
    }).once("error", reject);
  });
}

/** A wss client from `host` (the certificate names 127.0.0.1 and localhost), answering the first frame that matches. */
function wssRequest(host: string, port: number, frame: object, match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // The certificate names 127.0.0.1 and localhost, not the outside address: check the name as localhost.
    const socket = new WebSocket(`wss://${host}:${port}/ws`, {
      ca,
      checkServerIdentity: ((_name: string, cert: tls.PeerCertificate) => tls.checkServerIdentity("localhost", cert)) as unknown as ClientOptions[
        "checkServerIdentity"
      ],
    });
    sockets.push(socket);
    socket.once("error", reject);
    socket.once("open", () => socket.send(JSON.stringify(frame)));
    socket.on("message", (data) => {
      const parsed = JSON.parse(String(data));
      if (match(parsed)) resolve(parsed);
    });
  });
}

for (const runtime of SERVER_RUNTIMES) {
  describe(`http_listen over TLS on ${runtime}`, () => {
    test("with TLS configured the page is served over https and WebSocket over wss with the same pair", async () => {
      await using server = await startChatServer(runtime, [
        "--host",
        "0.0.0.0",
        "--http-listen",
        "0.0.0.0:0",
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        certs.server.cert,
        "--tls-key",
        certs.server.key,
      ]);
      const url = webUrl(server);
      expect(url.protocol).toBe("https:");
      const port = Number(url.port);
      const page = await httpsGet(port, "/");
      expect(page.status).toBe(200);
      expect(page.csp).toContain("connect-src 'self'");
      expect(page.body).toContain("<");

      const welcome = await wssRequest("127.0.0.1", port, { type: "hello", nick: "secure" }, (f) => f.type !== "ping");
      expect(welcome).toMatchObject({ type: "welcome", nick: "secure" });

      // The bench's own WebSocket client speaks wss too (tcpchat bench --ws --tls).
      const conn = await connectWebSocket(createBunRuntime(), "127.0.0.1", port, { ca });
      await conn.write(new TextEncoder().encode(JSON.stringify({ type: "hello", nick: "bencher" }) + "\n"));
      let received = "";
      for await (const chunk of conn.readable) {
        received += new TextDecoder().decode(chunk);
        if (received.includes("\n")) break;
      }
      expect(JSON.parse(received.slice(0, received.indexOf("\n")))).toMatchObject({ type: "welcome", nick: "bencher" });
      conn.close();

      if (OUTSIDE_ADDRESS !== undefined) {
        // From another host a password needs an encrypted socket (plaintext_auth): wss is one.
        const hello = { type: "hello", nick: "remote", password: "correct horse battery staple" };
        const answer = await wssRequest(OUTSIDE_ADDRESS, port, hello, (f) => f.type === "welcome" || f.type === "error");
        expect(answer).toMatchObject({ type: "welcome", nick: "remote" });
      }
    }, TEST_TIMEOUT_MS);

    test("http_tls off keeps plain http beside a TLS listener (for a proxy that terminates TLS)", async () => {
      await using server = await startChatServer(runtime, [
        "--http-listen",
        "127.0.0.1:0",
        "--http-tls",
        "off",
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        certs.server.cert,
        "--tls-key",
        certs.server.key,
      ]);
      const url = webUrl(server);
      expect(url.protocol).toBe("http:");
      const page = await fetch(url);
      expect(page.status).toBe(200);
    }, TEST_TIMEOUT_MS);

    test("SIGHUP serves new https/wss connections the renewed certificate; a mismatched pair is logged and the old one kept", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tcpchat-web-tls-"));
      dirs.push(dir);
      const files = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
      copyFileSync(certs.server.cert, files.cert);
      copyFileSync(certs.server.key, files.key);
      await using server = await startChatServer(runtime, [
        "--http-listen",
        "127.0.0.1:0",
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
      ]);
      const port = Number(webUrl(server).port);
      expect(await servedFingerprint(port)).toBe(fingerprintOf(certs.server.cert));
      const early = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca });
      sockets.push(early);
      const frames: Record<string, unknown>[] = [];
      early.on("message", (data) => frames.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => early.once("open", resolve).once("error", reject));
      early.send(JSON.stringify({ type: "hello", nick: "early" }));

      copyFileSync(certs.server2.cert, files.cert);
      copyFileSync(certs.server2.key, files.key);
      server.signal("SIGHUP");
      await server.waitForLog("web listener certificate reloaded");
      expect(await servedFingerprint(port)).toBe(fingerprintOf(certs.server2.cert));
      const page = await httpsGet(port, "/");
      expect(page.status).toBe(200);

      // The old certificate with the new key: refused, the renewed pair stays in use.
      copyFileSync(certs.server.cert, files.cert);
      server.signal("SIGHUP");
      await server.waitForLog("web listener certificate reload failed");
      expect(await servedFingerprint(port)).toBe(fingerprintOf(certs.server2.cert));

      // The wss user connected before the reloads is still served.
      early.send(JSON.stringify({ type: "msg", room: "lobby", text: "still here", id: "m1" }));
      await eventually(() => frames.some((f) => f.type === "msg" && f.text === "still here"), "the early user's message");
      expect(frames.find((f) => f.type === "welcome")).toMatchObject({ nick: "early" });
      expect(frames.find((f) => f.type === "msg" && f.text === "still here")).toMatchObject({ from: "early" });
    }, TEST_TIMEOUT_MS);
  });
}
