/**
 * The device's message history, kept in its IndexedDB local store (named values): one value
 * per chat with its newest lines, an index of those chats, the last chat list and the receipt
 * positions seen. A reload shows all of it before the socket opens; the SDK's cursors (same
 * database) mean only what is new is downloaded. Writes to one chat go one after another, and
 * a received message's write is awaited before its cursor moves (see Conversations).
 */
import type { ChatInfo, LocalStore, ReceiptPosition } from '@parley/sdk/browser';

/** An attachment as history keeps it: the pointer, bytes as base64. */
export interface FileRef {
  mediaId: string;
  key: string;
  digest: string;
  size: number;
  mime?: string;
  name?: string;
  /** An image's or video's size, and its thumbnail (base64), from the encrypted pointer. */
  width?: number;
  height?: number;
  /** A video's or voice note's length, from the pointer. */
  durationMs?: number;
  thumb?: { b64: string; mime: 'image/jpeg' | 'image/webp'; width: number; height: number };
}

export interface Line {
  /** The client message id of a message sent here, else `<sender device>:<seq>`. */
  key: string;
  seq?: number;
  senderUserId: string;
  mine: boolean;
  text: string;
  serverTime: number;
  /** Only for messages sent from this device. */
  sending?: 'pending' | 'failed';
  file?: FileRef;
  /** Sent from here without a preview (no poster frame, say): why, as the SDK put it. */
  previewNote?: string;
  /** The seq this message replies to. */
  replyTo?: number;
  /** Each member's reaction (one emoji per member). */
  reactions?: Record<string, string>;
  edited?: true;
  deleted?: true;
  /** Sent as view once: the server dropped it after the first delivery. */
  viewOnce?: true;
}

/** Lines kept per chat: older ones are dropped from the device. */
export const HISTORY_LIMIT = 1000;

const INDEX = 'web-history-chats';
const CHATS = 'web-chat-list';
const RECEIPTS = 'web-receipts';
const chatKey = (chatId: string) => `web-history:${chatId}`;

export type ReceiptSnapshot = Record<string, Record<string, ReceiptPosition>>;

export class History {
  private readonly tails = new Map<string, Promise<void>>();
  private known = new Set<string>();

  constructor(private readonly store: LocalStore) {}

  /** Every chat's lines as last saved; a line left sending by a closed tab shows as not sent. */
  async load(): Promise<Map<string, Line[]>> {
    const index = await this.store.load(INDEX);
    this.known = new Set(Array.isArray(index) ? index.filter((x) => typeof x === 'string') : []);
    const out = new Map<string, Line[]>();
    for (const chatId of this.known) {
      const lines = await this.store.load(chatKey(chatId));
      if (!Array.isArray(lines)) continue;
      out.set(
        chatId,
        (lines as Line[]).map((l) => (l.sending === 'pending' ? { ...l, sending: 'failed' } : l)),
      );
    }
    return out;
  }

  /** Saves a chat's lines (the newest HISTORY_LIMIT); resolves once durable. */
  save(chatId: string, lines: readonly Line[]): Promise<void> {
    const kept = lines.slice(-HISTORY_LIMIT);
    return this.serial(chatId, async () => {
      if (!this.known.has(chatId)) {
        this.known.add(chatId);
        await this.store.save(INDEX, [...this.known]);
      }
      await this.store.save(chatKey(chatId), kept);
    });
  }

  async chats(): Promise<ChatInfo[] | undefined> {
    const list = await this.store.load(CHATS);
    return Array.isArray(list) ? (list as ChatInfo[]) : undefined;
  }

  saveChats(chats: readonly ChatInfo[]): Promise<void> {
    return this.serial(CHATS, () => this.store.save(CHATS, chats));
  }

  async receipts(): Promise<ReceiptSnapshot> {
    const r = await this.store.load(RECEIPTS);
    return typeof r === 'object' && r !== null ? (r as ReceiptSnapshot) : {};
  }

  saveReceipts(snapshot: ReceiptSnapshot): Promise<void> {
    return this.serial(RECEIPTS, () => this.store.save(RECEIPTS, snapshot));
  }

  private serial(key: string, work: () => Promise<void>): Promise<void> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    this.tails.set(key, next);
    return next;
  }
}
