/** How chats are named, ordered and dated in the list (pure, so Node tests can run it). */
import { type ChatInfo, ChatKind } from '@parley/sdk/browser';

/**
 * A group's name; a direct chat's other member, by `name` (a phone number when known, else the
 * user id, until profiles are shown).
 */
export function chatTitle(
  chat: Pick<ChatInfo, 'kind' | 'name' | 'members'>,
  me: string,
  name: (userId: string) => string = (id) => id,
): string {
  if (chat.name) return chat.name;
  if (chat.kind === ChatKind.DIRECT) {
    const other = chat.members.find((m) => m.userId !== me);
    return other ? name(other.userId) : 'Yourself';
  }
  return 'Unnamed group';
}

/** Newest activity first; chats without messages by creation time. */
export function sortChats(chats: ChatInfo[]): ChatInfo[] {
  const at = (c: ChatInfo) => c.lastMessage?.serverTime ?? c.createdAt;
  return [...chats].sort((a, b) => at(b) - at(a) || (a.id < b.id ? -1 : 1));
}

/** "14:05" today, else the date. */
export function timeLabel(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now).toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}
