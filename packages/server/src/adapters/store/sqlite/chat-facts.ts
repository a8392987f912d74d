/**
 * What the writer checks on every send, per chat: its members and its disappearing timer.
 * The writer is the only process that changes them, so they are cached here and dropped by
 * every write to them (`forget`). The cache is sized to hold every busy chat of a large node
 * (a send in a chat that missed reads two B-trees), and entries are compact: a direct chat
 * costs one small object and an array of two interned user ids. When full, the oldest tenth
 * goes.
 */

/** A chat's member user ids: an array for small chats (a scan is fastest), a set above. */
export type MemberIds = readonly string[] | ReadonlySet<string>;

export interface ChatFacts {
  readonly members: MemberIds;
  /** Disappearing-message timer in seconds (0 = off). */
  readonly timer: number;
}

const SCAN_MAX = 16;

export function isMember(members: MemberIds, userId: string): boolean {
  return Array.isArray(members)
    ? (members as readonly string[]).includes(userId)
    : (members as ReadonlySet<string>).has(userId);
}

export class ChatFactsCache {
  private readonly facts = new Map<string, ChatFacts>();
  /** One string per user id across entries. */
  private readonly userIds = new Map<string, string>();

  constructor(
    /** Reads a chat from the store; undefined when it does not exist. */
    private readonly read: (chatId: string) => { userIds: string[]; timer: number } | undefined,
    private readonly maxEntries = 1_000_000,
  ) {}

  get size(): number {
    return this.facts.size;
  }

  get(chatId: string): ChatFacts | undefined {
    let f = this.facts.get(chatId);
    if (f) return f;
    const row = this.read(chatId);
    if (!row) return undefined;
    const ids = row.userIds.map((u) => this.intern(u));
    f = { members: ids.length <= SCAN_MAX ? ids : new Set(ids), timer: row.timer };
    if (this.facts.size >= this.maxEntries) this.evict();
    this.facts.set(chatId, f);
    return f;
  }

  forget(chatId: string): void {
    this.facts.delete(chatId);
  }

  private intern(userId: string): string {
    let u = this.userIds.get(userId);
    if (u === undefined) {
      if (this.userIds.size >= this.maxEntries) this.userIds.clear();
      this.userIds.set(userId, userId);
      u = userId;
    }
    return u;
  }

  /** Drops the oldest tenth (a Map iterates in insertion order). */
  private evict(): void {
    let n = Math.max(1, Math.floor(this.maxEntries / 10));
    for (const k of this.facts.keys()) {
      this.facts.delete(k);
      if (--n === 0) break;
    }
  }
}
