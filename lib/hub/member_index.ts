/**
 * A room's members sorted by nick key (NFKC casefold), so `who` can page
 * through a crowded room in a stable order without sorting it on every page.
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

/** What the index needs to know of a member. */
export interface Keyed {
  /** The uniqueness key of the member's nick; set while the member is in a room. */
  nickKey: string | null;
}

/** One page of members in key order. */
export interface MemberPage<S> {
  members: S[];
  /** Whether more members follow the page. */
  more: boolean;
}

/** Members in nick-key order. */
export class MemberIndex<S extends Keyed> {
  readonly #sorted: S[] = [];

  /** How many members are indexed. */
  get size(): number {
    return this.#sorted.length;
  }

  /** Adds a member (its `nickKey` must be set). */
  add(member: S): void {
    this.#sorted.splice(this.#firstAtOrAfter(member.nickKey!), 0, member);
  }

  /** Removes a member; `key` is the key it was added under (pass the old one during a rename). */
  remove(member: S, key: string = member.nickKey!): void {
    let i = this.#firstAtOrAfter(key);
    // Keys are unique among connected users, so the member is at i; the scan only guards against misuse.
    if (this.#sorted[i] !== member) i = this.#sorted.indexOf(member);
    if (i >= 0) this.#sorted.splice(i, 1);
  }

  /** Moves a renamed member to its new place. */
  rekey(member: S, oldKey: string): void {
    this.remove(member, oldKey);
    this.add(member);
  }

  /** Up to `limit` members whose key is greater than `afterKey` (from the first without it). */
  page(afterKey: string | undefined, limit: number): MemberPage<S> {
    const start = afterKey === undefined ? 0 : this.#firstAfter(afterKey);
    const end = Math.min(this.#sorted.length, start + limit);
    return { members: this.#sorted.slice(start, end), more: end < this.#sorted.length };
  }

  /** Index of the first member whose key is >= `key`. */
  #firstAtOrAfter(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid].nickKey! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first member whose key is > `key`. */
  #firstAfter(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid].nickKey! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
