/**
 * The messages of each chat as this device has them: loaded from its history in IndexedDB at
 * start, then what it decrypts and sends. Edits, deletes and reactions change the line they
 * point at. A received message is saved before its cursor moves (the SDK waits for this
 * listener), so a reload shows everything received and downloads only what is new. Sent
 * messages carry their state: sending, ✓ once stored, ✓✓ once every other member's device got
 * them, read (receipt positions are kept too). Made before the device connects (openDevice).
 */
import {
  type ChatInfo,
  type MessageStatus,
  newClientMessageId,
  ReceiptTracker,
  type SecureMessage,
  type SecureMessaging,
} from '@parley/sdk/browser';
import type { History, Line, ReceiptSnapshot } from './history.js';
import { fromPointer, MediaCache } from './media.js';

export type { FileRef, Line } from './history.js';

/** Upload progress of a file being sent: bytes the server holds of the whole. */
export interface Progress {
  sent: number;
  total: number;
}

function lineOf(m: SecureMessage, me: string): Line {
  const line: Line = {
    key: `${m.senderDeviceId}:${m.seq}`,
    seq: m.seq,
    senderUserId: m.senderUserId,
    mine: m.senderUserId === me,
    text: m.deleted ? '' : (m.content.text ?? ''),
    serverTime: m.serverTime,
  };
  if (m.deleted) line.deleted = true;
  else if (m.content.attachment) line.file = fromPointer(m.content.attachment);
  else if (m.content.text === undefined) line.text = 'A message this client cannot show yet.';
  if (m.meta.refSeq > 0) line.replyTo = m.meta.refSeq;
  if (m.meta.viewOnce) line.viewOnce = true;
  return line;
}

/** In chat order: by seq, lines still without one (being sent) last. */
const bySeq = (a: Line, b: Line) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER);

export class Conversations {
  private readonly receipts = new ReceiptTracker();
  private readonly listeners = new Set<() => void>();
  /** Called with each new message from someone else, once it is saved (for notifications). */
  onIncoming: ((chatId: string, line: Line) => void) | undefined;
  private readonly me: string;
  private readonly progress = new Map<string, Progress>();
  readonly media: MediaCache;

  private constructor(
    private readonly secure: SecureMessaging,
    private readonly history: History,
    private readonly lines: Map<string, Line[]>,
    private readonly positions: ReceiptSnapshot,
    /** The chat list as last seen (shown at once after a reload). */
    public chats: ChatInfo[] | undefined,
  ) {
    this.me = secure.client.credentials.userId;
    this.media = new MediaCache(secure);
    for (const [chatId, members] of Object.entries(positions))
      for (const [userId, p] of Object.entries(members))
        this.receipts.update({ chatId, userId, ...p, at: 0 });
    secure.on('message', (m) => this.receive(m));
    this.receipts.attach(secure.client, (r) => {
      const chat = this.positions[r.chatId] ?? {};
      chat[r.userId] = this.receipts.position(r.chatId, r.userId);
      this.positions[r.chatId] = chat;
      void this.history.saveReceipts(this.positions).catch(() => {});
      this.changed();
    });
  }

  /** Loads the device's history; listens to `secure` from now on. */
  static async open(secure: SecureMessaging, history: History): Promise<Conversations> {
    const [lines, positions, chats] = await Promise.all([
      history.load(),
      history.receipts(),
      history.chats(),
    ]);
    return new Conversations(secure, history, lines, positions, chats);
  }

  /** Tells the listeners something they show changed outside the chats (a person's name). */
  touch(): void {
    this.changed();
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  of(chatId: string): readonly Line[] {
    return this.lines.get(chatId) ?? [];
  }

  /** The line with `seq` in a chat. */
  find(chatId: string, seq: number): Line | undefined {
    return this.of(chatId).find((l) => l.seq === seq);
  }

  progressOf(key: string): Progress | undefined {
    return this.progress.get(key);
  }

  /** Called with each newest chat list (for the names the service worker shows). */
  onListed: ((chats: ChatInfo[]) => void) | undefined;

  /** Keeps the newest chat list, to show at once on the next load. */
  listed(chats: ChatInfo[]): void {
    this.chats = chats;
    void this.history.saveChats(chats).catch(() => {});
    this.onListed?.(chats);
  }

  /** ✓ / ✓✓ / read for a message this user sent, given the chat's other members. */
  status(chatId: string, seq: number, others: readonly string[]): MessageStatus {
    return this.receipts.status(chatId, seq, others);
  }

  /** Encrypts and sends; the line shows at once and gets its ✓ when the server stored it. */
  async send(chatId: string, text: string, replyTo?: number): Promise<void> {
    const key = newClientMessageId();
    const line: Line = {
      key,
      senderUserId: this.me,
      mine: true,
      text,
      serverTime: Date.now(),
      sending: 'pending',
    };
    if (replyTo !== undefined) line.replyTo = replyTo;
    this.put(chatId, line);
    try {
      const r = await this.secure.send(chatId, { text }, { clientMessageId: key, replyTo });
      this.update(chatId, key, (l) => ({ ...l, seq: r.seq, serverTime: r.serverTime, sending: undefined }));
    } catch (err) {
      this.update(chatId, key, (l) => ({ ...l, sending: 'failed' }));
      throw err;
    }
  }

  /**
   * Encrypts a file, uploads it with progress, and sends a pointer to it. Its own preview
   * shows from the local bytes while it goes.
   */
  async sendFile(chatId: string, file: File): Promise<void> {
    const key = newClientMessageId();
    const mime = file.type || 'application/octet-stream';
    const line: Line = {
      key,
      senderUserId: this.me,
      mine: true,
      text: '',
      serverTime: Date.now(),
      sending: 'pending',
      file: { mediaId: '', key: '', digest: '', size: file.size, mime, name: file.name },
    };
    this.progress.set(key, { sent: 0, total: file.size });
    this.media.local(key, file);
    this.put(chatId, line);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const r = await this.secure.sendFile(
        chatId,
        bytes,
        { mime, name: file.name },
        {
          clientMessageId: key,
          onProgress: (sent, total) => {
            this.progress.set(key, { sent, total });
            this.changed();
          },
        },
      );
      this.update(chatId, key, (l) => ({
        ...l,
        seq: r.seq,
        serverTime: r.serverTime,
        sending: undefined,
        file: fromPointer(r.attachment),
        ...(r.previewNote !== undefined && { previewNote: r.previewNote }),
      }));
    } catch (err) {
      this.update(chatId, key, (l) => ({ ...l, sending: 'failed' }));
      throw err;
    } finally {
      this.progress.delete(key);
      this.changed();
    }
  }

  async edit(chatId: string, seq: number, text: string): Promise<void> {
    await this.secure.edit(chatId, seq, { text });
    this.updateSeq(chatId, seq, (l) => ({ ...l, text, edited: true }));
  }

  async remove(chatId: string, seq: number): Promise<void> {
    await this.secure.client.deleteForEveryone(chatId, seq);
    this.updateSeq(chatId, seq, deleted);
  }

  /** Sets this user's reaction ('' removes it). */
  async react(chatId: string, seq: number, emoji: string): Promise<void> {
    await this.secure.client.react(chatId, seq, emoji);
    this.updateSeq(chatId, seq, (l) => reacted(l, this.me, emoji));
  }

  private async receive(m: SecureMessage): Promise<void> {
    const { type, refSeq } = m.meta;
    let incoming: Line | undefined;
    if (type === 'message') {
      if (this.find(m.chatId, m.seq)) return;
      const line = lineOf(m, this.me);
      this.put(m.chatId, line);
      if (!line.mine) incoming = line;
    } else if (type === 'edit') {
      const text = m.content.text;
      if (text === undefined) return;
      this.updateSeq(m.chatId, refSeq, (l) =>
        l.senderUserId === m.senderUserId ? { ...l, text, edited: true } : l,
      );
    } else if (type === 'delete') {
      this.updateSeq(m.chatId, refSeq, deleted);
    } else if (type === 'reaction') {
      this.updateSeq(m.chatId, refSeq, (l) => reacted(l, m.senderUserId, m.meta.reaction));
    }
    // Durable before the SDK moves the cursor past this message.
    await this.save(m.chatId);
    // Only a kept message is announced: one the page had not kept when it closed comes again
    // on the next load and is announced then, and one it kept is not announced twice.
    if (incoming) this.onIncoming?.(m.chatId, incoming);
  }

  private put(chatId: string, line: Line): void {
    const list = [...this.of(chatId), line];
    if (line.seq !== undefined) list.sort(bySeq);
    this.lines.set(chatId, list);
    void this.save(chatId).catch(() => {});
    this.changed();
  }

  private update(chatId: string, key: string, change: (l: Line) => Line): void {
    this.lines.set(
      chatId,
      this.of(chatId)
        .map((l) => (l.key === key ? change(l) : l))
        .sort(bySeq),
    );
    void this.save(chatId).catch(() => {});
    this.changed();
  }

  private updateSeq(chatId: string, seq: number, change: (l: Line) => Line): void {
    const line = this.find(chatId, seq);
    if (line) this.update(chatId, line.key, change);
  }

  private save(chatId: string): Promise<void> {
    return this.history.save(chatId, this.of(chatId));
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function deleted(l: Line): Line {
  const { file: _, reactions: __, edited: ___, ...rest } = l;
  return { ...rest, text: '', deleted: true };
}

function reacted(l: Line, userId: string, emoji: string): Line {
  const reactions = { ...l.reactions };
  if (emoji) reactions[userId] = emoji;
  else delete reactions[userId];
  return { ...l, reactions };
}
