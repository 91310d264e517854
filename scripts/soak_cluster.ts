/**
 * The soak's cluster (`npm run soak -- --cluster N`): a redis-server of the
 * run's own on a free port of 127.0.0.1 (no persistence: Redis is not what
 * the soak kills) and N tcpchat nodes sharing it, each with the soak's
 * flags. A short node lease (1.5 s) lets a node killed by `--restarts` give
 * its users' nicks back quickly, so they can come back through another node.
 *
 * @module
 */
import { type ChatServerProcess, startChatServer } from "../tests/support/chat_server.ts";
import { startRedis } from "../tests/support/redis_server.ts";
import type { RuntimeName } from "../tests/support/runtimes.ts";

/** How long a killed node's users hold their nicks before the other nodes free them. */
const NODE_LEASE_MS = 1500;

/** A running soak cluster. */
export interface SoakCluster {
  /** The nodes, started. */
  nodes: ChatServerProcess[];
  /** Starts one more node on `port` (0: any), as the first ones were. */
  startNode(port?: number): Promise<ChatServerProcess>;
  /** Stops Redis (the caller stops the nodes first). */
  stop(): Promise<void>;
}

/** Starts Redis and `count` nodes of `runtime` with `flags`. */
export async function startSoakCluster(runtime: RuntimeName, count: number, flags: string[]): Promise<SoakCluster> {
  const redis = await startRedis();
  const startNode = (port = 0) =>
    startChatServer(runtime, [...flags, "--cluster", redis.url, "--node-lease", String(NODE_LEASE_MS), "--port", String(port)]);
  try {
    const nodes = await Promise.all(Array.from({ length: count }, () => startNode()));
    return { nodes, startNode, stop: () => redis.kill() };
  } catch (error) {
    await redis.kill();
    throw error;
  }
}
