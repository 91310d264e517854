/**
 * The SQLite schema and its migrations. The version is SQLite's
 * `user_version`; a database from an older tcpchat is migrated on open, one
 * step at a time, each step in its own transaction. A database from a newer
 * tcpchat is refused (it may hold what this one does not understand).
 *
 * Tables (one concern each; later issues add theirs beside them):
 * - `rooms`: one row per room with messages: name, epoch, latest seq, last activity;
 * - `messages`: a room's kept messages, keyed by (room, seq), without rowid so
 *   a room's messages sit together in the b-tree;
 * - `accounts`: one row per account, keyed by nick key, the password as the
 *   JSON of its scrypt record (never the password itself);
 * - `room_state`, `room_operators`, `room_bans`: a room's topic and modes, its
 *   account operators (by account name) and its bans, keyed by room name
 *   (not `rooms.id`: state outlives a room's messages).
 *
 * @module
 */

/** Migrations: entry i brings a database from version i to version i + 1. */
export const MIGRATIONS: readonly string[] = [
  // 1: rooms and their messages.
  `CREATE TABLE rooms (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     epoch TEXT NOT NULL,
     seq INTEGER NOT NULL
   );
   CREATE TABLE messages (
     room_id INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     nick TEXT NOT NULL,
     text TEXT NOT NULL,
     PRIMARY KEY (room_id, seq)
   ) WITHOUT ROWID;`,
  // 2: last activity per room, so that rooms past max_rooms are forgotten least recently active first.
  `ALTER TABLE rooms ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX rooms_by_activity ON rooms (active_at);`,
  // 3: accounts and what a room keeps besides its messages (topic, modes, operators, bans).
  `CREATE TABLE accounts (
     key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     password TEXT NOT NULL,
     email TEXT,
     created INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE room_state (
     room TEXT PRIMARY KEY,
     topic TEXT,
     topic_by TEXT,
     topic_ts INTEGER,
     invite_only INTEGER NOT NULL,
     key TEXT NOT NULL,
     topic_lock INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE room_operators (
     room TEXT NOT NULL,
     account TEXT NOT NULL,
     PRIMARY KEY (room, account)
   ) WITHOUT ROWID;
   CREATE INDEX room_operators_by_account ON room_operators (account);
   CREATE TABLE room_bans (
     room TEXT NOT NULL,
     mask TEXT NOT NULL,
     by TEXT NOT NULL,
     ts INTEGER NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (room, mask)
   ) WITHOUT ROWID;`,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
