/**
 * A redis-server of the test's own on a free port of 127.0.0.1 (never a
 * system service), and three tcpchat nodes sharing it, for the cluster suites.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { type ChatServerProcess, startChatServer } from "./chat_server.ts";
import type { RuntimeName } from "./runtimes.ts";

/** A running redis-server. */
export interface RedisProcess {
  port: number;
  url: string;
  proc: ChildProcess;
  /** SIGKILL, resolving once it exited. */
  kill(): Promise<void>;
}

/** A port free now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server without persistence (or with `args`), resolving once it accepts connections. */
export async function startRedis(args: string[] = ["--save", "", "--appendonly", "no"], port?: number): Promise<RedisProcess> {
  port ??= await freePort();
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 5000);
    proc.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on("exit", () => reject(new Error(`redis-server exited:\n${out}`)));
  });
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    async kill() {
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Starts one tcpchat node on `url`; a short lease so failures show within a test's time. */
export function startNode(runtime: RuntimeName, url: string, flags: string[] = []): Promise<ChatServerProcess> {
  return startChatServer(runtime, ["--cluster", url, "--node-lease", "1500", "--rate-per-s", "0", "--default-room", "", ...flags]);
}

/** Starts `count` nodes on `url`. */
export function startNodes(runtime: RuntimeName, url: string, count = 3, flags: string[] = []): Promise<ChatServerProcess[]> {
  return Promise.all(Array.from({ length: count }, () => startNode(runtime, url, flags)));
}
