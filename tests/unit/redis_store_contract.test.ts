/**
 * The store contracts against the Redis account and room-state stores of a
 * cluster, on a redis-server of the test's own (emptied before each store).
 */
import { afterAll } from "bun:test";
import { RedisAccountStore } from "../../lib/cluster/redis_account_store.ts";
import { RedisLink } from "../../lib/cluster/redis_link.ts";
import { RedisRoomStateStore } from "../../lib/cluster/redis_room_state_store.ts";
import { type RedisProcess, startRedis } from "../support/redis_server.ts";
import { accountStoreContract, roomStateStoreContract } from "../support/store_contract.ts";

let redis: Promise<{ server: RedisProcess; link: RedisLink }> | undefined;

/** The shared redis-server and a link to it, emptied. */
async function emptied(): Promise<RedisLink> {
  redis ??= startRedis().then(async (server) => {
    const link = await RedisLink.create(server.url);
    await link.connect();
    return { server, link };
  });
  const { link } = await redis;
  await link.call(["FLUSHALL"]);
  return link;
}

afterAll(async () => {
  if (!redis) return;
  const { server, link } = await redis;
  await link.close();
  await server.kill();
});

accountStoreContract("redis", async () => new RedisAccountStore(await emptied()));
roomStateStoreContract("redis", async () => new RedisRoomStateStore(await emptied()));
