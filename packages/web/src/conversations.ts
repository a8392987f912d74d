/**
 * The messages of each chat as this device saw them: what it decrypted and what it sent, in
 * memory only (a reload starts each chat empty; history in IndexedDB comes later). Sent
 * messages carry their state: sending, then ✓ once the server stored them, ✓✓ once every
 * other member's device got them (from the client's receipt events). Made before the device
 * connects (openDevice), so the messages drained at connect are seen too.
 */
import {
  type MessageStatus,
  newClientMessageId,
  ReceiptTracker,
  type SecureMessage,
  type SecureMessaging,
} from '@parley/sdk/browser';

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
}

/** What a message shows: its text, or a plain word for content this screen does not show yet. */
function lineText(m: SecureMessage): string {
  if (m.deleted) return 'This message was deleted.';
  if (m.content.text !== undefined) return m.content.text;
  if (m.content.attachment) return `File: ${m.content.attachment.name || 'unnamed'} (not shown here yet)`;
  return 'A message this client cannot show yet.';
}

export class Conversations {
  private readonly lines = new Map<string, Line[]>();
  private readonly receipts = new ReceiptTracker();
  private readonly listeners = new Set<() => void>();
  private readonly me: string;

  constructor(private readonly secure: SecureMessaging) {
    this.me = secure.client.credentials.userId;
    secure.on('message', (m) => {
      this.add(m.chatId, {
        key: `${m.senderDeviceId}:${m.seq}`,
        seq: m.seq,
        senderUserId: m.senderUserId,
        mine: m.senderUserId === this.me,
        text: lineText(m),
        serverTime: m.serverTime,
      });
    });
    this.receipts.attach(secure.client, () => this.changed());
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  of(chatId: string): readonly Line[] {
    return this.lines.get(chatId) ?? [];
  }

  /** ✓ / ✓✓ / read for a message this user sent, given the chat's other members. */
  status(chatId: string, seq: number, others: readonly string[]): MessageStatus {
    return this.receipts.status(chatId, seq, others);
  }

  /** Encrypts and sends; the line shows at once and gets its ✓ when the server stored it. */
  async send(chatId: string, text: string): Promise<void> {
    const key = newClientMessageId();
    const line: Line = {
      key,
      senderUserId: this.me,
      mine: true,
      text,
      serverTime: Date.now(),
      sending: 'pending',
    };
    this.add(chatId, line);
    try {
      const r = await this.secure.send(chatId, { text }, { clientMessageId: key });
      this.replace(chatId, key, { ...line, seq: r.seq, serverTime: r.serverTime, sending: undefined });
    } catch (err) {
      this.replace(chatId, key, { ...line, sending: 'failed' });
      throw err;
    }
  }

  private add(chatId: string, line: Line): void {
    const list = this.lines.get(chatId) ?? [];
    if (list.some((l) => l.key === line.key)) return;
    this.lines.set(chatId, [...list, line]);
    this.changed();
  }

  private replace(chatId: string, key: string, line: Line): void {
    this.lines.set(
      chatId,
      this.of(chatId).map((l) => (l.key === key ? line : l)),
    );
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
