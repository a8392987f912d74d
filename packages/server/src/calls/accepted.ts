/**
 * Whether the callee has accepted a direct chat. Parley has no message-request step, so a chat
 * counts as accepted by a user once they sent a message or an update in it (created it, for
 * one). A call into a chat the callee has not accepted does not ring (docs/calls.md). Once
 * accepted, always accepted: the answer is remembered per chat and user.
 */
import type { Store } from '../ports/store.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';

/** Messages read at most per check: a chat this long where the callee never wrote is not accepted. */
export const ACCEPT_SCAN_MAX = 2000;
const PAGE = 200;
const REMEMBERED_MAX = 100_000;

export class AcceptedChats {
  private readonly known = new Set<string>();

  constructor(private readonly store: Pick<Store, 'messagesHistory'>) {}

  /** Reads the chat as `readerDevice` (a member's device) from its first message on. */
  async accepted(chatId: ChatId, user: UserId, readerDevice: DeviceId): Promise<boolean> {
    const key = `${chatId}\u0000${user}`;
    if (this.known.has(key)) return true;
    for (let after = 0; after < ACCEPT_SCAN_MAX; ) {
      const page = await this.store.messagesHistory(readerDevice, chatId, { afterSeq: after, limit: PAGE });
      if (page.some((m) => m.senderUserId === user)) {
        if (this.known.size >= REMEMBERED_MAX) this.known.clear();
        this.known.add(key);
        return true;
      }
      if (page.length < PAGE) return false;
      after = Math.max(...page.map((m) => m.seq));
    }
    return false;
  }
}
