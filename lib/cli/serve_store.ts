/**
 * The store `serve` runs with: SQLite in the data directory, or memory when
 * `data_dir` is empty (`--memory`). A data directory that cannot be used is
 * a {@linkcode CliError} with one line saying why (exit 2), never a stack trace.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { HubServices } from "../hub/hub_services.ts";
import { log } from "../ops/log.ts";
import { openDataDir, openMemoryDataStore, StoreOpenError } from "../store/data_dir.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { SqliteAccountStore } from "../store/sqlite_account_store.ts";
import { SqliteRoomStateStore } from "../store/sqlite_room_state_store.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { RoomLog } from "../store/types.ts";
import { CliError } from "./cli_error.ts";
import { openRedisStore } from "./serve_cluster.ts";

/** `--memory` is `--data-dir ""`: rewritten before the settings' flags are parsed. */
export function withMemoryFlag(args: string[]): string[] {
  return args.flatMap((arg) => (arg === "--memory" ? ["--data-dir", ""] : [arg]));
}

/** Opens the store the settings ask for. Throws {@linkcode CliError} (exit 2) when the data directory is unusable. */
export async function openStore(settings: Settings): Promise<RoomLog> {
  if (settings.cluster !== "") return await openRedisStore(settings);
  if (settings.data_dir === "") return new MemoryStore();
  const logger = log("store");
  try {
    return await openDataDir(settings.data_dir, settings, {
      onWriteFailure: (message) => logger.error("store write failed: {message}", { message }),
      onRecovered: () => logger.info("store writable again"),
      onNotice: (message) => logger.warning("store: {message}", { message }),
    });
  } catch (error) {
    if (error instanceof StoreOpenError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * The hub's stores over `store`: with a data directory, accounts and room
 * state (topic, modes, operators, bans) live in its database beside the
 * messages; in memory, the ChatServer's memory defaults are used.
 */
export function storeServices(store: RoomLog): Partial<HubServices> {
  if (!(store instanceof SqliteStore)) return { roomLog: store };
  const logger = log("store");
  return {
    roomLog: store,
    accounts: new SqliteAccountStore(store.db, store, (message) => logger.error("store write failed: {message}", { message })),
    roomStates: new SqliteRoomStateStore(store.db, store),
  };
}

/**
 * Stores for the start-up warm-up's private server (lib/server/jit_warmup.ts)
 * of the kind `store` is, holding nothing of it: with a data directory, a
 * SQLite store on a database in memory (the same commit path, no disk);
 * otherwise the memory defaults. `close` lets go of them.
 */
export async function warmUpStores(store: RoomLog, settings: Settings): Promise<{ services: Partial<HubServices>; close(): void }> {
  if (!(store instanceof SqliteStore)) return { services: {}, close: () => {} };
  const scratch = await openMemoryDataStore(settings);
  return { services: storeServices(scratch), close: () => scratch.close() };
}
