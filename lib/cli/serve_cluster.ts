/**
 * `serve` with `cluster` set: the Redis store, and the node's place in the
 * cluster wired into the server (hub hooks, `/readyz`, `/metrics`).
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { log, setLogNode } from "../ops/log.ts";
import type { ChatServer } from "../server/chat_server.ts";
import type { RoomLog } from "../store/types.ts";
import { renderClusterMetrics } from "../cluster/cluster_metrics.ts";
import { ClusterNode, newNodeId } from "../cluster/cluster_node.ts";
import { RedisLink } from "../cluster/redis_link.ts";
import { RedisRoomLog } from "../cluster/redis_room_log.ts";
import { RedisAccountStore } from "../cluster/redis_account_store.ts";
import { RedisRoomStateStore } from "../cluster/redis_room_state_store.ts";
import { CliError } from "./cli_error.ts";

/** The cluster URL without its password, for logs. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => `//${auth.includes(":") ? auth.split(":")[0] + ":***" : "***"}@`);
}

/** Connects to the cluster's Redis. Throws {@linkcode CliError} (exit 2) when it cannot be reached at start. */
export async function openRedisStore(settings: Settings): Promise<RedisRoomLog> {
  const link = await RedisLink.create(settings.cluster);
  try {
    await link.connect();
  } catch (error) {
    await link.close();
    throw new CliError(`cannot reach the cluster's Redis at ${redactedUrl(settings.cluster)}: ${(error as Error).message}`);
  }
  return new RedisRoomLog(link, settings);
}

/**
 * The account and room-state stores of a cluster node (Redis, shared by all
 * nodes), or none for another store (the server then uses its own).
 */
export function clusterStores(store: RoomLog): { accounts?: RedisAccountStore; roomStates?: RedisRoomStateStore } {
  if (!(store instanceof RedisRoomLog)) return {};
  return { accounts: new RedisAccountStore(store.link), roomStates: new RedisRoomStateStore(store.link) };
}

/** Makes `server` a node of the cluster `store` belongs to (nothing for another store); call before it starts. */
export async function joinCluster(server: ChatServer, store: RoomLog): Promise<ClusterNode | undefined> {
  if (!(store instanceof RedisRoomLog)) return undefined;
  const id = newNodeId();
  setLogNode(id);
  const logger = log("cluster");
  const link = store.link;
  const node = new ClusterNode(id, link, store, server.hub, server.settings, logger);
  link.onLost = (message) => logger.error("lost Redis: {message}; frames that need it get unavailable", { message });
  server.hub.cluster = node;
  const roomStates = server.hub.services.roomStates;
  if (roomStates instanceof RedisRoomStateStore) {
    roomStates.origin = id;
    roomStates.onWriteError = (error) => logger.warning("a room's state change was not kept: {error}", { error: String(error) });
  }
  server.readyToo = () => link.up;
  server.moreMetrics = () => renderClusterMetrics(link, node);
  await node.start();
  logger.info("node {node} joined the cluster at {url}", { node: id, url: redactedUrl(server.settings.cluster) });
  return node;
}
