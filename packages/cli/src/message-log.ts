/**
 * What `parley chat` remembers of each chat's messages, so edits, deletes and reactions
 * (which are messages of their own naming `refSeq`) can be shown against the message they
 * change, and so the status of the user's own messages can be followed. Pure: no I/O.
 */
import type { MessageStatus, ReceivedMessage } from '@parley/sdk';

export interface LogEntry {
  chatId: string;
  seq: number;
  senderUserId: string;
  payload: Uint8Array;
  /** The message replied to (0: none). */
  replyTo: number;
  mentions: string[];
  forwardCount: number;
  forwardedMany: boolean;
  /** View once: shown once here, and the server keeps no copy after delivery. */
  viewOnce?: boolean;
  edited: boolean;
  deleted: boolean;
  /** Reaction per user (the newest; removed ones are gone). */
  reactions: Map<string, string>;
  /** The user's own message: its last shown status. */
  status?: MessageStatus;
}

/** What an incoming message did, for the caller to show. */
export type LogEffect =
  | { kind: 'message'; entry: LogEntry }
  | { kind: 'edit'; refSeq: number; entry: LogEntry | undefined; payload: Uint8Array }
  | { kind: 'delete'; refSeq: number; entry: LogEntry | undefined }
  | { kind: 'reaction'; refSeq: number; entry: LogEntry | undefined; emoji: string };

/** How many messages per chat are kept. */
const KEEP = 500;

export class MessageLog {
  private readonly chats = new Map<string, Map<number, LogEntry>>();

  constructor(private readonly self: string) {}

  get(chatId: string, seq: number): LogEntry | undefined {
    return this.chats.get(chatId)?.get(seq);
  }

  /** The newest seq known in a chat (0: none). */
  newest(chatId: string): number {
    let max = 0;
    for (const seq of this.chats.get(chatId)?.keys() ?? []) max = Math.max(max, seq);
    return max;
  }

  /** The user's own messages in a chat that are not yet read, oldest first. */
  pendingOwn(chatId: string): LogEntry[] {
    return [...(this.chats.get(chatId)?.values() ?? [])]
      .filter((e) => e.senderUserId === this.self && e.status !== undefined && e.status !== 'read')
      .sort((a, b) => a.seq - b.seq);
  }

  /** A message the user sent from this device (it is not delivered back here). */
  sent(m: Omit<ReceivedMessage, 'senderDeviceId' | 'clientMessageId' | 'serverTime'>): LogEffect {
    const effect = this.apply(m);
    if (effect.kind === 'message') effect.entry.status = 'sent';
    return effect;
  }

  /** Applies a received (or history) message: a new entry, or a change to an earlier one. */
  apply(m: Omit<ReceivedMessage, 'senderDeviceId' | 'clientMessageId' | 'serverTime'>): LogEffect {
    const target = this.get(m.chatId, m.meta.refSeq);
    switch (m.meta.type) {
      case 'edit':
        if (target && !target.deleted) {
          target.payload = m.payload;
          target.edited = true;
        }
        return { kind: 'edit', refSeq: m.meta.refSeq, entry: target, payload: m.payload };
      case 'delete':
        if (target) {
          target.deleted = true;
          target.payload = new Uint8Array(0);
        }
        return { kind: 'delete', refSeq: m.meta.refSeq, entry: target };
      case 'reaction':
        if (target) {
          if (m.meta.reaction === '') target.reactions.delete(m.senderUserId);
          else target.reactions.set(m.senderUserId, m.meta.reaction);
        }
        return { kind: 'reaction', refSeq: m.meta.refSeq, entry: target, emoji: m.meta.reaction };
      default: {
        const entry: LogEntry = {
          chatId: m.chatId,
          seq: m.seq,
          senderUserId: m.senderUserId,
          payload: m.payload,
          replyTo: m.meta.refSeq,
          mentions: m.meta.mentions,
          forwardCount: m.meta.forwardCount,
          forwardedMany: m.forwardedMany,
          ...(m.meta.viewOnce && { viewOnce: true }),
          edited: false,
          deleted: m.deleted,
          reactions: new Map(),
        };
        this.remember(entry);
        return { kind: 'message', entry };
      }
    }
  }

  private remember(entry: LogEntry): void {
    let chat = this.chats.get(entry.chatId);
    if (!chat) {
      chat = new Map();
      this.chats.set(entry.chatId, chat);
    }
    chat.set(entry.seq, entry);
    if (chat.size > KEEP) chat.delete(Math.min(...chat.keys()));
  }
}

/** "👍 2  ❤️ 1": the reactions of a message, most used first. */
export function reactionSummary(reactions: ReadonlyMap<string, string>): string {
  const counts = new Map<string, number>();
  for (const emoji of reactions.values()) counts.set(emoji, (counts.get(emoji) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([emoji, n]) => `${emoji} ${n}`)
    .join('  ');
}
