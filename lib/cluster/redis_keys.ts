/**
 * Every Redis key and channel a cluster uses, in one place. A room's keys
 * share the hash tag `{r:NAME}`, so on a Redis Cluster all of a room lives in
 * one slot and the append script (which touches several of them) stays legal.
 *
 * @module
 */

/** A room's `seq` and `epoch` (a hash). */
export const roomMetaKey = (room: string): string => `tc:{r:${room}}:meta`;
/** A room's kept messages (a stream whose entry ids are the seqs). */
export const roomLogKey = (room: string): string => `tc:{r:${room}}:log`;
/** A room's members on every node (a hash: nick key to a JSON member). */
export const roomMembersKey = (room: string): string => `tc:{r:${room}}:members`;
/** The channel a room's messages and events are published on. */
export const roomChannel = (room: string): string => `tc:{r:${room}}:ch`;
/** Room names with at least one member on some node (a hash: name to member count). */
export const ROOMS_KEY = "tc:rooms";
/** Who holds a nick (a string: `NODE SESSION`). */
export const nickKeyOf = (key: string): string => `tc:nick:${key}`;
/** Every node that has announced itself (a set of node ids). */
export const NODES_KEY = "tc:nodes";
/** Present while a node's lease runs (a string with an expiry). */
export const nodeAliveKey = (node: string): string => `tc:node:${node}:alive`;
/** What a node's users hold, for cleaning up after it dies (a hash: `ROOM NICKKEY` or `@NICKKEY` to the nick). */
export const nodeHoldingsKey = (node: string): string => `tc:node:${node}:holds`;
/** Taken by the one node that cleans up after a dead node. */
export const nodeReaperKey = (node: string): string => `tc:node:${node}:reaper`;
/** The channel a node receives its DMs on. */
export const nodeChannel = (node: string): string => `tc:node:${node}:ch`;
/** Every account (a hash: account key to the JSON account record). */
export const ACCOUNTS_KEY = "tc:accounts";
/** A room's topic and modes (a hash: `topic`, `modes`, each JSON). */
export const roomStateKey = (room: string): string => `tc:{r:${room}}:state`;
/** A room's account operators (a set of account names). */
export const roomOpsKey = (room: string): string => `tc:{r:${room}}:ops`;
/** A room's bans (a hash: mask to the JSON ban). */
export const roomBansKey = (room: string): string => `tc:{r:${room}}:bans`;
/** The rooms an account operates (a set of room names), so dropping the account reaches them all. */
export const accountOpsKey = (name: string): string => `tc:opsof:${name}`;
