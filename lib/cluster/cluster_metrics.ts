/**
 * A cluster node's metric families, in the Prometheus text format, appended
 * to the server's `/metrics`.
 *
 * @module
 */
import type { RedisLink } from "./redis_link.ts";
import type { ClusterNode } from "./cluster_node.ts";

/** The exposition text of the node's Redis counters. */
export function renderClusterMetrics(link: RedisLink, node: ClusterNode): string {
  const s = link.stats;
  const lines: string[] = [];
  const family = (name: string, type: "counter" | "gauge", help: string, value: number) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{node="${node.id}"} ${value}`);
  family("tcpchat_redis_up", "gauge", "1 while both connections to Redis are up.", link.up ? 1 : 0);
  family("tcpchat_redis_round_trips_total", "counter", "Redis commands answered.", s.roundTrips);
  family("tcpchat_redis_round_trip_seconds_total", "counter", "Time spent waiting for Redis answers.", s.roundTripSeconds);
  family("tcpchat_redis_errors_total", "counter", "Redis commands that failed or timed out.", s.errors);
  family("tcpchat_redis_reconnects_total", "counter", "Times the subscriber connection came back.", s.reconnects);
  family("tcpchat_cluster_relayed_total", "counter", "Messages and events received over Redis pub/sub.", s.relayed);
  family("tcpchat_cluster_filled_total", "counter", "Messages delivered from a room's stream to fill a gap.", node.feeds.filled);
  family("tcpchat_cluster_append_calls_total", "counter", "Append script calls (each stores a batch of one room's messages).", node.log.batches.batches);
  family("tcpchat_cluster_appended_total", "counter", "Messages this node sent to Redis in those calls.", node.log.batches.messages);
  family("tcpchat_cluster_reaped_total", "counter", "Memberships of dead nodes' users this node ended.", node.reaped);
  return lines.join("\n") + "\n";
}
