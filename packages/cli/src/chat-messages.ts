/**
 * The message side of `parley chat`: shows incoming messages (with edits, deletes and
 * reactions applied to what was shown), the user's own messages with ticks that follow
 * receipts, marks the open chat read, and runs /reply, /edit, /delete, /react, /forward.
 */
import {
  type ChatInfo,
  type MessageStatus,
  type ParleyClient,
  ReceiptTracker,
  type ReceivedMessage,
  type SendResult,
} from '@parley/sdk';
import type { Contacts } from './contacts.js';
import { CliError } from './errors.js';
import { effectLines, statusLine } from './format-message.js';
import { MessageLog } from './message-log.js';
import { encodeText } from './text.js';

/** What ChatMessages needs to know of the room. */
export interface RoomView {
  /** The open chat, if any. */
  open(): ChatInfo | undefined;
  /** A chat by id (fetched when unknown). */
  chat(chatId: string): Promise<ChatInfo | undefined>;
  /** A chat by its /chats number (1-based). */
  numbered(n: number): ChatInfo | undefined;
}

/** A message number typed by the user. */
export function parseSeq(arg: string | undefined): number {
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`not a message number: ${arg}`);
  return n;
}

export class ChatMessages {
  readonly log: MessageLog;
  private readonly receipts = new ReceiptTracker();
  private readonly detach: () => void;
  /** Highest seq markRead was sent for, per chat (no repeats). */
  private readonly marked = new Map<string, number>();

  constructor(
    private readonly client: ParleyClient,
    private readonly contacts: Contacts,
    private readonly room: RoomView,
    private readonly print: (line: string) => void,
  ) {
    this.log = new MessageLog(client.credentials.userId);
    this.detach = this.receipts.attach(client, (r) => void this.receiptMoved(r.chatId));
  }

  dispose(): void {
    this.detach();
  }

  private name = (userId: string) => this.contacts.userName(userId);

  /** An incoming message: shown, and marked read when its chat is open. */
  async onMessage(m: ReceivedMessage): Promise<void> {
    const chat = await this.room.chat(m.chatId);
    const chatName = chat ? this.contacts.chatName(chat) : m.chatId;
    const effect = this.log.apply(m);
    for (const line of effectLines(chatName, this.name, effect, m.senderUserId)) this.print(line);
    if (this.room.open()?.id === m.chatId) this.markRead(m.chatId, m.seq);
  }

  /** Opened a chat: everything up to its newest message is read. */
  opened(chat: ChatInfo): void {
    const newest = Math.max(chat.lastSeq, this.log.newest(chat.id));
    if (newest > chat.readSeq) this.markRead(chat.id, newest);
  }

  /** Best effort: a failed markRead is retried by the next message or /open. */
  private markRead(chatId: string, seq: number): void {
    if ((this.marked.get(chatId) ?? 0) >= seq) return;
    this.marked.set(chatId, seq);
    this.client.markRead(chatId, seq).catch(() => this.marked.delete(chatId));
  }

  /** Sends text to the open chat (a reply when `replyTo` is set) and shows it with its tick. */
  async sendText(text: string, replyTo?: number, extra: { viewOnce?: boolean } = {}): Promise<void> {
    const chat = this.requireOpen();
    const payload = encodeText(text);
    const result = await this.client.send(chat.id, payload, {
      ...(replyTo !== undefined && { replyTo }),
      ...(extra.viewOnce && { viewOnce: true }),
    });
    this.showOwn(chat, result, { payload, refSeq: replyTo ?? 0 });
  }

  async run(name: string, args: string[]): Promise<void> {
    const chat = this.requireOpen();
    const seq = parseSeq(args[0]);
    switch (name) {
      case 'reply':
        return this.sendText(args[1]!, seq);
      case 'edit': {
        const payload = encodeText(args[1]!);
        const r = await this.client.edit(chat.id, seq, payload);
        return this.showOwn(chat, r, { payload, type: 'edit', refSeq: seq });
      }
      case 'delete': {
        const r = await this.client.deleteForEveryone(chat.id, seq);
        return this.showOwn(chat, r, { type: 'delete', refSeq: seq });
      }
      case 'react': {
        const emoji = args[1] ?? '';
        const r = await this.client.react(chat.id, seq, emoji);
        return this.showOwn(chat, r, { type: 'reaction', refSeq: seq, reaction: emoji });
      }
      case 'forward':
        return this.forward(chat, seq, args.slice(1));
    }
  }

  private async forward(chat: ChatInfo, seq: number, numbers: string[]): Promise<void> {
    const source = await this.find(chat.id, seq);
    if (source.deleted || source.payload.byteLength === 0)
      throw new CliError(`message #${seq} has no content`);
    const targets = numbers.map((n) => {
      const target = this.room.numbered(Number(n));
      if (!target) throw new CliError(`no chat ${n}: /chats lists them`);
      return target;
    });
    const results = await this.client.forward(
      targets.map((t) => ({ chatId: t.id, payload: source.payload })),
      source.forwardCount + 1,
    );
    results.forEach((r, i) => {
      this.showOwn(targets[i]!, r, { payload: source.payload, forwardCount: source.forwardCount + 1 });
    });
  }

  /** Message `seq` of a chat, from what was shown or from the server. */
  private async find(chatId: string, seq: number) {
    const known = this.log.get(chatId, seq);
    if (known) return known;
    const page = await this.client.history(chatId, { afterSeq: seq - 1, limit: 1 });
    const m = page.messages.find((x) => x.seq === seq);
    if (!m || !('payload' in m) || m.meta.type !== 'message') throw new CliError(`no message #${seq} here`);
    const effect = this.log.apply(m);
    if (effect.kind !== 'message') throw new CliError(`no message #${seq} here`);
    return effect.entry;
  }

  /** Shows a message of the user's (✓ for a new one) as the log now sees it. */
  private showOwn(
    chat: ChatInfo,
    r: SendResult,
    meta: {
      payload?: Uint8Array;
      type?: 'message' | 'edit' | 'delete' | 'reaction';
      refSeq?: number;
      reaction?: string;
      forwardCount?: number;
    },
  ): void {
    const self = this.client.credentials.userId;
    const effect = this.log.sent({
      chatId: r.chatId,
      seq: r.seq,
      senderUserId: self,
      payload: meta.payload ?? new Uint8Array(0),
      meta: {
        type: meta.type ?? 'message',
        refSeq: meta.refSeq ?? 0,
        reaction: meta.reaction ?? '',
        mentions: [],
        forwardCount: meta.forwardCount ?? 0,
      },
      forwardedMany: (meta.forwardCount ?? 0) > 5,
      deleted: false,
    });
    if (effect.kind === 'message') effect.entry.status = this.statusOf(chat, r.seq);
    for (const line of effectLines(this.contacts.chatName(chat), this.name, effect, self)) this.print(line);
  }

  private statusOf(chat: ChatInfo, seq: number): MessageStatus {
    const self = this.client.credentials.userId;
    const others = chat.members.map((m) => m.userId).filter((id) => id !== self);
    return this.receipts.status(chat.id, seq, others);
  }

  /** A receipt moved: reprints the status of the user's messages it changed. */
  private async receiptMoved(chatId: string): Promise<void> {
    const pending = this.log.pendingOwn(chatId);
    if (pending.length === 0) return;
    const chat = await this.room.chat(chatId);
    if (!chat) return;
    for (const entry of pending) {
      const status = this.statusOf(chat, entry.seq);
      if (status === entry.status) continue;
      entry.status = status;
      this.print(statusLine(this.contacts.chatName(chat), entry.seq, status));
    }
  }

  private requireOpen(): ChatInfo {
    const chat = this.room.open();
    if (!chat) throw new CliError('no chat is open: /chats, /open N or /new +PHONE');
    return chat;
  }
}
