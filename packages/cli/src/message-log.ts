/**
 * What `parley chat` remembers of each chat's decrypted messages, so edits, deletes and
 * reactions (which are messages of their own naming `refSeq`) can be shown against the
 * message they change, the status of the user's own messages can be followed, and history,
 * /forward and /save work from what this device read (the server's copies are ciphertext
 * that could be decrypted once). Pure: no I/O (MessageArchive keeps it on disk).
 */
import type { AttachmentPointer, MessageStatus, ReceivedMessage, SecureMessage } from '@parley/sdk';

/** How many messages per chat are kept. */
export const MESSAGES_KEPT_PER_CHAT = 500;

/** What a file's pointer tells before it is downloaded (images, videos, voice notes). */
export interface FilePreview {
  width?: number;
  height?: number;
  durationMs?: number;
  thumbnail?: { width: number; height: number };
}

/** A file in a message: what is shown, and (when received) how to fetch and decrypt it. */
export interface FileInfo {
  name?: string;
  mime?: string;
  /** Plaintext size in bytes. */
  size: number;
  preview?: FilePreview;
  /** Absent for a file sent from this device (the SDK does not hand back its pointer). */
  pointer?: AttachmentPointer;
}

export interface LogEntry {
  chatId: string;
  seq: number;
  senderUserId: string;
  /** The text ('' when none, e.g. a file without a caption, or deleted). */
  text: string;
  file?: FileInfo;
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
  /** A disappearing message: when it goes (ms since the epoch, server clock). */
  expiresAt?: number;
}

/** A message for the log: the delivered fields with its decrypted text and file. */
export interface LogInput
  extends Omit<ReceivedMessage, 'senderDeviceId' | 'clientMessageId' | 'serverTime' | 'payload'> {
  text: string;
  file?: FileInfo;
}

/** What an incoming message did, for the caller to show. */
export type LogEffect =
  | { kind: 'message'; entry: LogEntry }
  | { kind: 'edit'; refSeq: number; entry: LogEntry | undefined; text: string }
  | { kind: 'delete'; refSeq: number; entry: LogEntry | undefined }
  | { kind: 'reaction'; refSeq: number; entry: LogEntry | undefined; emoji: string };

/** The log's view of a decrypted message. */
export function logInput(m: SecureMessage): LogInput {
  const { content, senderDeviceId: _d, clientMessageId: _c, serverTime: _t, ...rest } = m;
  const a = content.attachment;
  return {
    ...rest,
    text: content.text ?? '',
    ...(a && {
      file: {
        size: a.size,
        pointer: a,
        ...(a.name !== undefined && { name: a.name }),
        ...(a.mime !== undefined && { mime: a.mime }),
        ...previewOf(a),
      },
    }),
  };
}

/** The preview fields of a pointer, as FileInfo keeps them (nothing when it has none). */
export function previewOf(a: AttachmentPointer): { preview?: FilePreview } {
  const preview: FilePreview = {
    ...(a.width !== undefined && a.height !== undefined && { width: a.width, height: a.height }),
    ...(a.durationMs !== undefined && { durationMs: a.durationMs }),
    ...(a.thumbnail && { thumbnail: { width: a.thumbnail.width, height: a.thumbnail.height } }),
  };
  return Object.keys(preview).length > 0 ? { preview } : {};
}

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

  /** A chat's messages, oldest first. */
  entries(chatId: string): LogEntry[] {
    return [...(this.chats.get(chatId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  /** Adds messages kept from an earlier run (those already known stay as they are). */
  restore(entries: readonly LogEntry[]): void {
    for (const e of entries) if (!this.get(e.chatId, e.seq)) this.remember(e);
  }

  /** Forgets a message (a disappearing message's time is up). */
  remove(chatId: string, seq: number): void {
    this.chats.get(chatId)?.delete(seq);
  }

  /** A message the user sent from this device (it is not delivered back here). */
  sent(m: LogInput): LogEffect {
    const effect = this.apply(m);
    if (effect.kind === 'message') effect.entry.status = 'sent';
    return effect;
  }

  /** Applies a received (or sent) message: a new entry, or a change to an earlier one. */
  apply(m: LogInput): LogEffect {
    const target = this.get(m.chatId, m.meta.refSeq);
    switch (m.meta.type) {
      case 'edit':
        // An edit changes the text; a file stays (unless the edit carries another).
        if (target && !target.deleted) {
          target.text = m.text;
          if (m.file) target.file = m.file;
          target.edited = true;
        }
        return { kind: 'edit', refSeq: m.meta.refSeq, entry: target, text: m.text };
      case 'delete':
        if (target) {
          target.deleted = true;
          target.text = '';
          delete target.file;
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
          text: m.deleted ? '' : m.text,
          ...(m.file && !m.deleted && { file: m.file }),
          replyTo: m.meta.refSeq,
          mentions: m.meta.mentions,
          forwardCount: m.meta.forwardCount,
          forwardedMany: m.forwardedMany,
          ...(m.meta.viewOnce && { viewOnce: true }),
          edited: false,
          deleted: m.deleted,
          reactions: new Map(),
          ...(m.expiresAt !== undefined && { expiresAt: m.expiresAt }),
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
    if (chat.size > MESSAGES_KEPT_PER_CHAT) chat.delete(Math.min(...chat.keys()));
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
