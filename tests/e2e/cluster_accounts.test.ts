/**
 * `tcpchat account` against a cluster (a redis-server of the test's own, and
 * a running node): accounts added, changed and deleted with `--cluster` (or
 * `cluster` from the config file) are what the node logs in against at
 * once; passwords come from TCPCHAT_PASSWORD or stdin, never argv, and
 * appear in no output; Redis that cannot be reached is one line and exit 2.
 * The command runs under each source runtime and the executable; the node is
 * Bun's (its own suites cover the nodes on every runtime).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../support/chat_client.ts";
import { type ChatServerProcess, SERVER_RUNTIMES } from "../support/chat_server.ts";
import { freePort, type RedisProcess, startNode, startRedis } from "../support/redis_server.ts";
import { runTcpchat } from "../support/cli_run.ts";
import type { RuntimeName } from "../support/runtimes.ts";

const SECRETS = ["first-cluster-pass", "second-cluster-pass"];
const dir = mkdtempSync(join(tmpdir(), "tcpchat-cluster-accounts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This process's environment without a cluster or config file of its own (an empty one would override the file's). */
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "TCPCHAT_CLUSTER" && k !== "TCPCHAT_CONFIG"));

/** Runs `tcpchat ARGS` under `runtime` without this process's cluster or config settings. */
const run = (runtime: RuntimeName, args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) =>
  runTcpchat(runtime, args, { ...options, baseEnv: BASE_ENV });

/** The node's answer to logging in to `nick` with `password`. */
async function hello(port: number, nick: string, password: string): Promise<Record<string, unknown>> {
  const c = await TestClient.connect(port);
  try {
    return await c.request({ type: "hello", nick, password }, 5000);
  } finally {
    c.destroy();
  }
}

/**
 * The source runtimes and the executable; the bundles run the same code as
 * the source under Deno and Node (and connect to Redis in the cluster suites).
 */
const CLI_RUNTIMES = SERVER_RUNTIMES.filter((r) => r !== "deno-dist" && r !== "node-dist");

describe.each(CLI_RUNTIMES)("tcpchat account on a cluster (%s)", (runtime) => {
  let redis: RedisProcess;
  let node: ChatServerProcess;
  beforeAll(async () => {
    redis = await startRedis();
    node = await startNode("bun", redis.url);
  });
  afterAll(async () => {
    await node?.stop();
    await redis?.kill();
  });

  test("add, passwd, list and del through Redis hold on a running node at once; no password in any output", async () => {
    const name = `Crew${runtime.replace(/\W/g, "")}`;
    const added = await run(runtime, ["account", "add", name, "--cluster", redis.url, "--email", "crew@example.org"], {
      env: { TCPCHAT_PASSWORD: SECRETS[0] },
    });
    expect([added.code, added.stdout.trim(), added.stderr]).toEqual([0, `added ${name}`, ""]);
    expect(await hello(node.port, name, SECRETS[0])).toMatchObject({ type: "welcome", account: name });
    // The cluster named by the environment; the new password from stdin.
    const changed = await run(runtime, ["account", "passwd", name.toLowerCase()], {
      env: { TCPCHAT_CLUSTER: redis.url },
      stdin: `${SECRETS[1]}\n`,
    });
    expect([changed.code, changed.stdout.trim()]).toEqual([0, `password of ${name} changed`]);
    expect(await hello(node.port, name, SECRETS[0])).toMatchObject({ type: "error", code: "unauthorized" });
    // Logged in with the new password, the account makes a room and operates it (until it is deleted, below).
    const owner = await TestClient.connect(node.port);
    expect(await owner.request({ type: "hello", nick: name, password: SECRETS[1] }, 5000)).toMatchObject({ type: "welcome", account: name });
    const room = `deck${runtime.replace(/\W/g, "")}`;
    expect(await owner.request({ type: "join", room }, 5000)).toMatchObject({ type: "room", ops: [name] });
    // The cluster named by a config file.
    const config = join(dir, `${runtime}.toml`);
    writeFileSync(config, `cluster = "${redis.url}"\n`);
    const listed = await run(runtime, ["account", "list", "--config", config]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${name}\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\tcrew@example\\.org$`, "m"));
    const twice = await run(runtime, ["account", "add", name, "--cluster", redis.url], { env: { TCPCHAT_PASSWORD: SECRETS[0] } });
    expect([twice.code, twice.stderr.trim()]).toEqual([3, `tcpchat account add: ${name} is already registered`]);
    const deleted = await run(runtime, ["account", "del", name, "--cluster", redis.url]);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, `deleted ${name}`]);
    // Deleted, it operates no room any more: the node that follows the room was told.
    const other = await TestClient.register(node.port, `deckhand${runtime.replace(/\W/g, "")}`, { defaultRoom: null });
    expect(await other.request({ type: "join", room }, 5000)).toMatchObject({ type: "room", ops: [] });
    other.destroy();
    owner.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The nick is free again: a guest takes it.
    const c = await TestClient.connect(node.port);
    expect(await c.request({ type: "hello", nick: name }, 5000)).toMatchObject({ type: "welcome", nick: name });
    c.destroy();
    for (const out of [added, changed, listed, twice, deleted]) {
      for (const secret of SECRETS) expect(out.stdout + out.stderr).not.toContain(secret);
    }
  }, 60_000);

  test("Redis that cannot be reached is one line and exit 2, before any password is asked; --cluster with --data-dir is a usage error", async () => {
    const url = `redis://:hidden-auth@127.0.0.1:${await freePort()}`;
    // No TCPCHAT_PASSWORD and an empty stdin: had the password been read first, the answer would be a weak-password refusal (exit 3).
    const down = await run(runtime, ["account", "add", "nobody", "--cluster", url]);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain(`cannot reach the cluster's Redis at redis://:***@127.0.0.1:`);
    expect(down.stderr).not.toContain("hidden-auth");
    expect(down.stderr).not.toContain("    at ");
    const both = await run(runtime, ["account", "list", "--cluster", redis.url, "--data-dir", dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give either --data-dir or --cluster");
  }, 30_000);
});
