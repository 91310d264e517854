/**
 * Who a `room` snapshot lists: at most `snapshot_members` nicks, so a join
 * costs O(snapshot_members) bytes however big the room is. Those the joiner
 * most needs come first (itself, then the room's operators once rooms have
 * them), then the others in join order; `who` pages through everyone.
 *
 * @module
 */

/**
 * Up to `limit` of `members`: `first` (those that are members, in order,
 * without repeats), then the rest in iteration order. Costs O(limit +
 * first.length), never O(members).
 */
export function snapshotMembers<S>(members: ReadonlySet<S>, first: readonly S[], limit: number): S[] {
  const out: S[] = [];
  const chosen = new Set<S>();
  for (const member of first) {
    if (out.length >= limit) return out;
    if (!members.has(member) || chosen.has(member)) continue;
    chosen.add(member);
    out.push(member);
  }
  for (const member of members) {
    if (out.length >= limit) break;
    if (!chosen.has(member)) out.push(member);
  }
  return out;
}
