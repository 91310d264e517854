/**
 * The store contracts against every store implementation. The SQLite stores
 * join this list when they exist.
 */
import { MemoryAccountStore } from "../../lib/store/account_store.ts";
import { MemoryRoomStateStore } from "../../lib/store/room_state_store.ts";
import { accountStoreContract, roomStateStoreContract } from "../support/store_contract.ts";

accountStoreContract("memory", () => new MemoryAccountStore());
roomStateStoreContract("memory", () => new MemoryRoomStateStore());
