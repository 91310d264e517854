/**
 * A room's moderation state as the hub holds it live: topic, modes, account
 * operators, session operators and bans, with the permission rules of the
 * protocol (section 9) as small pure functions.
 *
 * @module
 */
import { nickFold, nickKey } from "../protocol/names.ts";
import type { ModesView } from "../protocol/server_frames.ts";
import { type BanRecord, defaultModes, type RoomModes, type RoomStateRecord, type TopicRecord } from "../store/room_state_store.ts";
import type { Session } from "./session.ts";

/** A logged-in session's account: its key and its name as registered. */
export interface AccountRef {
  key: string;
  name: string;
}

/** Topic, modes, operators and bans of one room. */
export class RoomModeration<P = unknown> {
  topic: TopicRecord | null = null;
  modes: RoomModes = defaultModes();
  /** Account operators: account key → account name. */
  readonly accountOps = new Map<string, string>();
  /** Guests who are operators while they stay (room creators, or given `op`). */
  readonly sessionOps = new Set<Session<P>>();
  /** Bans by match key (see {@linkcode maskKey}): look-alike names meet, as nicks do. */
  readonly bans = new Map<string, BanRecord>();

  /** Live state from what the store kept (or a fresh room when it kept nothing). */
  static from<P>(record: RoomStateRecord | undefined): RoomModeration<P> {
    const mod = new RoomModeration<P>();
    if (!record) return mod;
    mod.topic = record.topic;
    mod.modes = { ...record.modes };
    for (const name of record.operators) mod.accountOps.set(nickKey(name), name);
    for (const ban of record.bans) mod.bans.set(maskKey(ban.mask), ban);
    return mod;
  }

  /** The modes as clients see them (whether a key is set, never the key). */
  view(): ModesView {
    return { invite_only: this.modes.invite_only, key: this.modes.key !== "", topic_lock: this.modes.topic_lock };
  }

  /** Whether `session` operates this room by its account or as a guest operator (server operators aside). */
  isRoomOperator(session: Session<P>): boolean {
    return this.sessionOps.has(session) || (session.account !== null && this.accountOps.has(session.account.key));
  }

  /** The ban that matches `session`, if any. */
  banOf(session: Session<P>): BanRecord | undefined {
    if (session.account !== null) {
      const ban = this.bans.get(`account:${session.account.key}`);
      if (ban) return ban;
    }
    return session.nickKey === null ? undefined : this.bans.get(`nick:${session.nickKey}`);
  }

  /** Adds a ban; returns the one it replaced (whose mask matches the same names), if any. */
  addBan(ban: BanRecord): BanRecord | undefined {
    const key = maskKey(ban.mask);
    const replaced = this.bans.get(key);
    this.bans.set(key, ban);
    return replaced;
  }

  /** Removes the ban matching `mask`; returns it, or undefined when there was none. */
  removeBan(mask: string): BanRecord | undefined {
    const key = maskKey(mask);
    const ban = this.bans.get(key);
    this.bans.delete(key);
    return ban;
  }
}

/** The mask that bans `session`: its account when logged in, else its nick (both casefolded). */
export function banMask(session: Session): string {
  return session.account !== null ? `account:${nickFold(session.account.name)}` : `nick:${nickFold(session.nick!)}`;
}

/** A mask as given by a client (`account:NAME` or `nick:NAME`), casefolded as masks are shown and kept. */
export function normalizeMask(mask: string): string {
  const colon = mask.indexOf(":");
  return `${mask.slice(0, colon)}:${nickFold(mask.slice(colon + 1))}`;
}

/** What a mask matches: its kind and the nick key of its name, so `nick:bob` also stops `bоb` (Cyrillic о). */
export function maskKey(mask: string): string {
  const colon = mask.indexOf(":");
  return `${mask.slice(0, colon)}:${nickKey(mask.slice(colon + 1))}`;
}

/** The server operators' account keys, from the `operators` setting (a comma list of account names). */
export function operatorKeys(setting: string): Set<string> {
  return new Set(setting.split(",").map((name) => name.trim()).filter((name) => name !== "").map(nickKey));
}

/** The `operators` setting, parsed once per value (a reload may change it). */
export class ServerOperators {
  #setting = "";
  #keys = new Set<string>();

  /** Whether `account` is named in `setting`. */
  includes(account: AccountRef | null, setting: string): boolean {
    if (account === null) return false;
    if (setting !== this.#setting) {
      this.#setting = setting;
      this.#keys = operatorKeys(setting);
    }
    return this.#keys.has(account.key);
  }
}
