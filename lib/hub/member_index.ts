/**
 * A room's members sorted by the NFKC case fold of their nicks, so `who` can
 * page through a crowded room in a stable, readable order without sorting it
 * on every page.
 *
 * A sorted array with binary search: a page is O(log n + limit), a join or a
 * leave is O(log n) to find the place plus one `splice` (a memmove of at most
 * n pointers: about 120 KB for 15,000 members, microseconds). A balanced tree
 * would make that O(log n) too, at the cost of an allocation per member and
 * much more code; at the room sizes a server holds (tens of thousands) the
 * memmove is not what costs.
 *
 * @module
 */
import { nickFold } from "../protocol/names.ts";

/** What the index needs to know of a member. */
export interface Named {
  /** The member's nick; set while the member is in a room. */
  nick: string | null;
}

/** One page of members in fold order. */
export interface MemberPage<S> {
  members: S[];
  /** Whether more members follow the page. */
  more: boolean;
}

/** Members in nick-fold order. */
export class MemberIndex<S extends Named> {
  /** Members, sorted by `#keys`. */
  readonly #sorted: S[] = [];
  /** The fold each member was added under, at the same index (kept, so a rename can find the old place). */
  readonly #keys: string[] = [];

  /** How many members are indexed. */
  get size(): number {
    return this.#sorted.length;
  }

  /** Adds a member (its `nick` must be set). */
  add(member: S): void {
    const key = nickFold(member.nick!);
    const i = this.#firstAtOrAfter(key);
    this.#sorted.splice(i, 0, member);
    this.#keys.splice(i, 0, key);
  }

  /** Removes a member; `nick` is the nick it was added under (pass the old one during a rename). */
  remove(member: S, nick: string = member.nick!): void {
    let i = this.#firstAtOrAfter(nickFold(nick));
    // Folds are unique among connected users, so the member is at i; the scan only guards against misuse.
    if (this.#sorted[i] !== member) i = this.#sorted.indexOf(member);
    if (i < 0) return;
    this.#sorted.splice(i, 1);
    this.#keys.splice(i, 1);
  }

  /** Moves a renamed member to its new place. */
  rekey(member: S, oldNick: string): void {
    this.remove(member, oldNick);
    this.add(member);
  }

  /** Up to `limit` members whose nick folds after `afterNick`'s (from the first without it). */
  page(afterNick: string | undefined, limit: number): MemberPage<S> {
    const start = afterNick === undefined ? 0 : this.#firstAfter(nickFold(afterNick));
    const end = Math.min(this.#sorted.length, start + limit);
    return { members: this.#sorted.slice(start, end), more: end < this.#sorted.length };
  }

  /** Index of the first key >= `key`. */
  #firstAtOrAfter(key: string): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first key > `key`. */
  #firstAfter(key: string): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#keys[mid] <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
