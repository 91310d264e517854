/**
 * The SQLite schema and its migrations. The version is SQLite's
 * `user_version`; a database from an older tcpchat is migrated on open, one
 * step at a time, each step in its own transaction. A database from a newer
 * tcpchat is refused (it may hold what this one does not understand).
 *
 * Tables (one concern each; later issues add theirs beside them):
 * - `rooms`: one row per room with messages: name, epoch, latest seq, last activity;
 * - `messages`: a room's kept messages, keyed by (room, seq), without rowid so
 *   a room's messages sit together in the b-tree.
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
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
