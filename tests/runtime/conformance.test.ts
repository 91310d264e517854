/**
 * One behaviour suite for every runtime adapter: each case spawns
 * `tests/fixtures/runtime_fixture.ts` under bun, deno and node and talks to it
 * over real sockets on 127.0.0.1 from this (Bun) process with `node:net`.
 * The fixture reports what its `Conn`s see on stdout; lines about a connection
 * carry the peer port, i.e. the test client's local port.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as net from "node:net";
import * as tls from "node:tls";
import { patternBytes, patternMismatch } from "../support/byte_pattern.ts";
import { makeTestCerts, pem } from "../support/tls_certs.ts";
import { RUNTIMES, type RuntimeName, type ServerProcess, spawnServer } from "../support/runtimes.ts";

const FIXTURE = "tests/fixtures/runtime_fixture.ts";
// The fixture needs nothing but loopback sockets: narrowest Deno permission.
const DENO_FLAGS = ["--allow-net=127.0.0.1"];
const MIB = 1024 * 1024;

/** Open-file limit of this process (children inherit it). */
const FD_LIMIT = Number(execFileSync("sh", ["-c", "ulimit -n"]).toString().trim()) || 1024;
// Each connection costs one fd here and one in the fixture; keep headroom for the runtimes.
const CONCURRENT_CONNECTIONS = Math.min(1000, FD_LIMIT - 200);

/** Connects with half-open allowed, so the client can end its side and still read. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** Everything the peer sends until its FIN. */
function readToEnd(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.once("error", reject);
  });
}

/** Resolves once `socket` has received `length` bytes; returns them. */
function readBytes(socket: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= length) {
        socket.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(RUNTIMES)("runtime adapter under %s", (runtime: RuntimeName) => {
  // One fixture process per mode, shared by the cases that use it.
  const servers = new Map<string, Promise<ServerProcess>>();
  const server = (mode: string, ...args: string[]): Promise<ServerProcess> => {
    const key = [mode, ...args].join(" ");
    let started = servers.get(key);
    if (started === undefined) {
      started = spawnServer(runtime, FIXTURE, [mode, ...args], { denoFlags: DENO_FLAGS });
      servers.set(key, started);
    }
    return started;
  };

  afterAll(async () => {
    const fixtures = (await Promise.all([...servers.values()].map((started) => started.catch(() => undefined))))
      .filter((fixture) => fixture !== undefined);
    // Checked before stopping; asserted after, so a failure cannot leave fixtures running.
    const crashed = fixtures.filter((fixture) => !fixture.alive() && fixture.exitCode() !== 0);
    const noisy = fixtures.filter((fixture) => fixture.stderr() !== "");
    await Promise.all(fixtures.map((fixture) => fixture.stop()));
    // A fixture that died (not exit 0) or complained means an adapter let an error escape.
    expect(crashed.map((fixture) => fixture.stderr())).toEqual([]);
    expect(noisy.map((fixture) => fixture.stderr())).toEqual([]);
  });

  test("echo: bytes come back unchanged and the connection closes as eof", async () => {
    const fixture = await server("echo");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    const reply = readToEnd(socket);
    const sent = patternBytes(0, 256 * 1024);
    socket.end(sent);
    expect(Buffer.compare(await reply, sent)).toBe(0);
    await fixture.waitForLine(`closed ${port} eof`);
    socket.destroy();
  });

  test("pipe: chunks pushed to a sink are intact and in order, it ends at the peer's FIN, and the reply still goes out", async () => {
    const fixture = await server("pipe");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    const reply = readToEnd(socket);
    const sent = patternBytes(0, 256 * 1024);
    socket.end(sent);
    await fixture.waitForLine(`pipe-ended ${port}`);
    expect(Buffer.compare(await reply, sent)).toBe(0);
    await fixture.waitForLine(`closed ${port} eof`);
    socket.destroy();
  });

  test("pipe: a peer reset ends the pipe and gives closed = reset", async () => {
    const fixture = await server("pipe");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    socket.write("some bytes");
    await fixture.waitForLine(`accepted ${port} 127.0.0.1`);
    socket.resetAndDestroy();
    await fixture.waitForLine(`pipe-ended ${port}`);
    await fixture.waitForLine(`closed ${port} reset`);
  });

  test("remoteAddr is the client's numeric IP and port", async () => {
    const fixture = await server("echo");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    await fixture.waitForLine(`accepted ${port} 127.0.0.1`);
    socket.destroy();
  });

  test(`${CONCURRENT_CONNECTIONS} concurrent connections each round-trip`, async () => {
    const fixture = await server("echo");
    // Opened in waves: 1,000 SYNs at once can overflow a listen backlog (Node's
    // default is 511), and the kernel retries a dropped SYN only after 1 s.
    const sockets: net.Socket[] = [];
    while (sockets.length < CONCURRENT_CONNECTIONS) {
      const wave = Math.min(100, CONCURRENT_CONNECTIONS - sockets.length);
      sockets.push(...await Promise.all(Array.from({ length: wave }, () => connect(fixture.port))));
    }
    try {
      // All are open at once; each then does one round-trip of its own message.
      const replies = await Promise.all(sockets.map((socket, i) => {
        const message = Buffer.from(`hello from ${i}\n`);
        const reply = readBytes(socket, message.length);
        socket.write(message);
        return reply.then((bytes) => bytes.toString());
      }));
      replies.forEach((reply, i) => expect(reply).toBe(`hello from ${i}\n`));
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 30_000);

  test("after the peer half-closes, the server still writes its reply, then FIN (chunks it kept are intact)", async () => {
    const fixture = await server("collect");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    const reply = readToEnd(socket);
    const sent = patternBytes(0, 4 * MIB);
    // Written in pieces so the server sees many chunks and must keep each one.
    for (let offset = 0; offset < sent.length; offset += 64 * 1024) socket.write(sent.subarray(offset, offset + 64 * 1024));
    socket.end();
    const received = await reply;
    expect(received.length).toBe(sent.length);
    expect(patternMismatch(received, 0)).toBe(-1);
    await fixture.waitForLine(`closed ${port} eof`);
    socket.destroy();
  }, 15_000);

  test("a 10 MiB write stays pending while the peer does not read, then arrives complete and in order", async () => {
    const fixture = await server("source", String(10 * MIB));
    const socket = await connect(fixture.port);
    socket.pause();
    const port = socket.localPort!;
    await fixture.waitForLine(`write-started ${port}`);
    await sleep(500);
    // Loopback buffers hold a few MiB; the rest must still be waiting in the adapter.
    expect(fixture.lines()).not.toContain(`write-resolved ${port}`);

    let received = 0;
    let mismatch = -1;
    const done = new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        if (mismatch < 0) mismatch = patternMismatch(chunk, received);
        received += chunk.length;
      });
      socket.once("end", () => {
        socket.end();
        resolve();
      });
      socket.once("error", reject);
    });
    socket.resume();
    await done;
    expect(mismatch).toBe(-1);
    expect(received).toBe(10 * MIB);
    await fixture.waitForLine(`write-resolved ${port}`);
    await fixture.waitForLine(`closed ${port} eof`);
  }, 15_000);

  test("writes issued while earlier ones are pending are taken in order, each resolves, and closeWrite's FIN comes after them", async () => {
    // 40 writes of 256 KiB issued 5 ms apart, none awaited; the client starts
    // reading midway, so later writes find an emptied kernel buffer while
    // earlier ones still have bytes queued in the adapter.
    const fixture = await server("source", String(10 * MIB), String(256 * 1024), "concurrent");
    const socket = await connect(fixture.port);
    socket.pause();
    const port = socket.localPort!;
    await fixture.waitForLine(`write-started ${port}`);
    await sleep(100);
    expect(fixture.lines()).not.toContain(`write-resolved ${port}`);
    let received = 0;
    let mismatch = -1;
    socket.on("data", (chunk: Buffer) => {
      if (mismatch < 0) mismatch = patternMismatch(chunk, received);
      received += chunk.length;
    });
    const ended = new Promise((resolve) => socket.once("end", resolve));
    socket.resume();
    await ended;
    socket.end();
    expect(mismatch).toBe(-1);
    expect(received).toBe(10 * MIB);
    await fixture.waitForLine(`write-resolved ${port}`);
    await fixture.waitForLine(`closed ${port} eof`);
  }, 15_000);

  test("a server that is not reading stops taking bytes (read backpressure), then gets them all", async () => {
    const fixture = await server("stall", "1500");
    const socket = await connect(fixture.port);
    const reply = readToEnd(socket);
    const sent = 64 * MIB;
    socket.end(new Uint8Array(sent));
    await sleep(700);
    // Kernel buffers take a few MiB; an adapter that kept reading would have taken it all.
    expect(socket.writableLength).toBeGreaterThan(32 * MIB);
    expect((await reply).toString()).toBe(`${sent}\n`);
  }, 15_000);

  test("a peer reset gives closed = reset, and the server keeps serving", async () => {
    const fixture = await server("echo");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    const echoed = readBytes(socket, 5);
    socket.write("hello");
    await echoed;
    socket.resetAndDestroy();
    await fixture.waitForLine(`closed ${port} reset`);

    const next = await connect(fixture.port);
    const reply = readToEnd(next);
    next.end("still here");
    expect((await reply).toString()).toBe("still here");
    await closed(next);
  });

  test("a peer reset during a pending write rejects the write and gives closed = reset", async () => {
    const fixture = await server("source", String(10 * MIB));
    const socket = await connect(fixture.port);
    socket.pause();
    const port = socket.localPort!;
    await fixture.waitForLine(`write-started ${port}`);
    await sleep(100);
    socket.resetAndDestroy();
    await fixture.waitForLine(`write-rejected ${port} connection_closed`);
    await fixture.waitForLine(`closed ${port} reset`);
    expect(fixture.lines()).not.toContain(`write-resolved ${port}`);
  });

  test("closing the listener ends the accept loop; the open connection stays open", async () => {
    const fixture = await server("close-listener");
    const socket = await connect(fixture.port);
    const port = socket.localPort!;
    await fixture.waitForLine("accept-loop-ended");
    // New connections are refused...
    await expect(connect(fixture.port)).rejects.toThrow(/ECONNREFUSED/);
    // ...while the accepted one still works.
    const reply = readToEnd(socket);
    socket.end("after close");
    expect((await reply).toString()).toBe("after close");
    await fixture.waitForLine(`closed ${port} eof`);
  });

  test("connect to a closed port rejects with a clear error", async () => {
    const fixture = await server("connect-refused");
    const line = await fixture.waitForLine(/^connect-(error|succeeded)/);
    expect(line).toMatch(
      /^connect-error connection_refused connect to 127\.0\.0\.1:\d+ failed: connection refused \(ECONNREFUSED\)$/,
    );
  });
});

describe.each(RUNTIMES)("runtime services under %s", (runtime: RuntimeName) => {
  test("args, env, readTextFile, memoryRss, isTerminal, serveHttp, onSignal and exit work", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-runtime-"));
    const file = join(dir, "greeting.txt");
    writeFileSync(file, "héllo\nworld");
    await using fixture = await spawnServer(runtime, FIXTURE, ["misc", file], {
      denoFlags: [...DENO_FLAGS, `--allow-read=${file}`, "--allow-env=TCPCHAT_FIXTURE_ENV"],
      env: { TCPCHAT_FIXTURE_ENV: "from-env" },
    });
    try {
      await fixture.waitForLine(/^http-listening /);
      const lines = fixture.lines();
      expect(lines).toContain(`args ${JSON.stringify(["misc", file])}`);
      expect(lines).toContain("env from-env");
      expect(lines).toContain(`file ${JSON.stringify("héllo\nworld")}`);
      expect(lines).toContain("tty false");
      const rss = Number(lines.find((line) => line.startsWith("rss "))!.slice(4));
      expect(rss).toBeGreaterThan(1024 * 1024);

      const httpPort = Number((await fixture.waitForLine(/^http-listening /)).split(" ")[1]);
      const response = await fetch(`http://127.0.0.1:${httpPort}/path?q=1`, {
        method: "POST",
        body: "payload",
        headers: { "x-test": "yes" },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-fixture")).toBe("yes");
      expect(await response.text()).toBe("POST /path?q=1 payload");

      fixture.signal("SIGHUP");
      await fixture.waitForLine("signal SIGHUP");
      fixture.signal("SIGUSR2");
      await fixture.waitForLine("signal SIGUSR2");
      fixture.signal("SIGTERM");
      expect(await fixture.exited).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** TLS-connects to the fixture, trusting the test CA; resolves once the handshake is done. */
function connectTlsClient(port: number, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, allowHalfOpen: true } as tls.ConnectionOptions);
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** The common name of the certificate a new connection is served. */
async function servedCommonName(port: number, ca: string): Promise<string> {
  const socket = await connectTlsClient(port, ca);
  const name = String(socket.getPeerCertificate().subject.CN);
  socket.destroy();
  return name;
}

describe.each(RUNTIMES)("TLS adapter under %s", (runtime: RuntimeName) => {
  const certs = makeTestCerts();
  // A dir per runtime: the reload case rewrites next.crt/next.key in it.
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-tls-fixture-"));
  copyFileSync(certs.ca, join(dir, "ca.crt"));
  copyFileSync(certs.server.cert, join(dir, "server.crt"));
  copyFileSync(certs.server.key, join(dir, "server.key"));
  const ca = pem(certs.ca);
  let started: Promise<ServerProcess> | undefined;
  const fixture = () => (started ??= spawnServer(runtime, FIXTURE, ["tls", dir], { denoFlags: [...DENO_FLAGS, `--allow-read=${dir}`] }));

  afterAll(async () => {
    const server = await started?.catch(() => undefined);
    const stderr = server?.stderr() ?? "";
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(stderr).toBe("");
  });

  test("a TLS connection is yielded before its handshake, then echoes bytes unchanged and closes as eof", async () => {
    const server = await fixture();
    const raw = await connect(server.port);
    await server.waitForLine(`accepted ${raw.localPort} 127.0.0.1`);
    await sleep(100);
    expect(server.lines()).not.toContain(`handshake ${raw.localPort}`);
    raw.destroy();

    const socket = await connectTlsClient(server.port, ca);
    const port = socket.localPort!;
    await server.waitForLine(`handshake ${port}`);
    const reply = readToEnd(socket);
    const sent = patternBytes(0, 256 * 1024);
    socket.end(sent);
    expect(Buffer.compare(await reply, sent)).toBe(0);
    await server.waitForLine(`closed ${port} eof`);
    socket.destroy();
  });

  test("connectTls trusts a given CA, refuses a wrong name and an unknown CA, and insecure skips the checks", async () => {
    const server = await fixture();
    await server.waitForLine("connect-tls-done");
    const lines = server.lines();
    expect(lines).toContain("connect-tls ca ok ping");
    expect(lines).toContain("connect-tls wrong-name error tls_failed");
    expect(lines).toContain("connect-tls no-ca error tls_failed");
    expect(lines).toContain("connect-tls insecure ok ping");
  });

  test("bytes that are not a TLS handshake close that connection only", async () => {
    const server = await fixture();
    const raw = await connect(server.port);
    const port = raw.localPort!;
    raw.on("error", () => {}); // A reset is one acceptable way to be closed.
    // Half-open is allowed on this socket: the server's FIN (or a reset) is what "closed" means here.
    const gone = new Promise((resolve) => (raw.once("end", resolve), raw.once("close", resolve)));
    raw.write("GET / HTTP/1.0\r\n\r\nnot tls at all\n");
    raw.resume(); // The server may answer with a TLS alert first; "end" comes only once that is read.
    await gone;
    raw.destroy();
    // How it ends (an error, a reset, or a plain close after an alert) differs by TLS stack.
    await server.waitForLine(new RegExp(`^closed ${port} `));
    expect(server.lines()).not.toContain(`handshake ${port}`);
    const socket = await connectTlsClient(server.port, ca);
    const reply = readToEnd(socket);
    socket.end("still serving");
    expect((await reply).toString()).toBe("still serving");
  });

  test("setCertificate serves new connections with the new pair, and a mismatched pair is refused with the old kept", async () => {
    const server = await fixture();
    await server.waitForLine("connect-tls-done");
    expect(await servedCommonName(server.port, ca)).toBe("tcpchat-test-1");
    copyFileSync(certs.server2.cert, join(dir, "next.crt"));
    copyFileSync(certs.server2.key, join(dir, "next.key"));
    server.signal("SIGHUP");
    await server.waitForLine("reloaded");
    expect(await servedCommonName(server.port, ca)).toBe("tcpchat-test-2");

    // The first pair's certificate with the second pair's key: refused, the second pair stays.
    copyFileSync(certs.server.cert, join(dir, "next.crt"));
    server.signal("SIGHUP");
    await server.waitForLine("reload-failed bad_certificate");
    expect(await servedCommonName(server.port, ca)).toBe("tcpchat-test-2");
  });
});
