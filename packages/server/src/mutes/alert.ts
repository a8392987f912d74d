/**
 * Whether a new message alerts a user (sound, banner) or, at most, arrives silently: the
 * question the push pipeline asks for each recipient. Do-not-disturb silences everything; a
 * chat mute silences the chat, except that a message mentioning the user in a group breaks
 * through (as WhatsApp does). The server knows who is mentioned because the sender declares
 * it in the clear (MessageMeta.mentions); it never sees the content.
 */
import type { Store } from '../ports/store.js';
import type { ChatId, UserId } from '../ports/types.js';

export interface AlertQuestion {
  userId: UserId;
  chatId: ChatId;
  /** The message names the user in MessageMeta.mentions. */
  mentioned: boolean;
  /** Unix ms. */
  now: number;
}

/** True when the message should alert the user; false for a silent (background) push at most. */
export async function alertFor(
  deps: { store: Pick<Store, 'alertSettings'> },
  q: AlertQuestion,
): Promise<boolean> {
  const s = await deps.store.alertSettings(q.userId, q.chatId);
  if (s.doNotDisturbUntil > q.now) return false;
  // Not a member (any more): nothing of theirs to mute; whether to push at all is the caller's call.
  if (!s.chat || s.chat.mutedUntil <= q.now) return true;
  return s.chat.kind === 'group' && q.mentioned;
}
