/**
 * The decision of Store.discoveryLookupsTake, shared by every backend so they cannot disagree:
 * given the lookups a user has remembered (within the window), which of the asked digests are
 * fresh, and whether they fit in the budget.
 */
import type { DiscoveryLookupsTake, DiscoveryLookupsTaken } from '../../ports/store.js';

export interface RememberedLookup {
  digest: string;
  lookedUpAt: number;
}

/** What to answer, and the fresh digests to record when the answer is ok. */
export function decideLookups(
  remembered: readonly RememberedLookup[],
  input: DiscoveryLookupsTake,
): { answer: DiscoveryLookupsTaken; record: string[] } {
  const known = new Set(remembered.map((r) => r.digest));
  const fresh = [...new Set(input.digests)].filter((d) => !known.has(d));
  const over = remembered.length + fresh.length - input.budget;
  if (over <= 0) return { answer: { ok: true, fresh: fresh.length }, record: fresh };
  if (fresh.length > input.budget) {
    return { answer: { ok: false, fresh: fresh.length, retryAt: undefined }, record: [] };
  }
  // The `over` oldest lookups must be forgotten first; the last of them goes at its time + window.
  const times = remembered.map((r) => r.lookedUpAt).sort((a, b) => a - b);
  return {
    answer: { ok: false, fresh: fresh.length, retryAt: times[over - 1]! + input.windowMs },
    record: [],
  };
}
