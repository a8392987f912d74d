/**
 * The message side of `parley chat`: shows decrypted incoming messages (with edits, deletes
 * and reactions applied to what was shown), the user's own messages with ticks that follow
 * receipts, marks the open chat read, and runs /reply, /edit, /delete, /react, /forward,
 * /file, /save and /history. Content goes through SecureMessaging (deletes and reactions
 * carry none); what was read is kept in the MessageArchive, since the server's copies can
 * be decrypted only once. /save keeps a file's encrypted bytes as they arrive (when given a
 * downloads directory), so a /save that was cut off goes on from them when run again.
 */

import {
  type ChatInfo,
  type MessageStatus,
  type ParleyClient,
  ReceiptTracker,
  type SecureContent,
  type SecureMessage,
  type SecureMessaging,
  type SendResult,
} from '@parley/sdk';
import { readFileToSend, writeReceivedFile } from './attachments.js';
import type { Contacts } from './contacts.js';
import { CliError } from './errors.js';
import { effectLines, entryLine, fileLabel, reactionsLine, statusLine } from './format-message.js';
import { downloadKept, keptPart, removeKeptPart } from './kept-downloads.js';
import type { MessageArchive } from './message-archive.js';
import {
  type FileInfo,
  type LogEffect,
  type LogEntry,
  logInput,
  MessageLog,
  previewOf,
} from './message-log.js';
import { ProgressLine } from './progress.js';

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

/** Files at least this big show a progress line while they are encrypted and moved. */
const PROGRESS_BYTES = 1024 * 1024;

export interface ChatMessagesOptions {
  /**
   * Where /save keeps the encrypted bytes of a file as they arrive (the profile's downloads
   * directory, shared with `parley download`), so a cut-off /save resumes; default: nothing
   * is kept and a /save starts from zero.
   */
  downloads?: string;
}

export class ChatMessages {
  readonly log: MessageLog;
  private readonly client: ParleyClient;
  private readonly receipts = new ReceiptTracker();
  private readonly detach: () => void;
  /** Highest seq markRead was sent for, per chat (no repeats). */
  private readonly marked = new Map<string, number>();
  /** Chats whose kept messages are loaded into the log (or loading). */
  private readonly loaded = new Map<string, Promise<void>>();

  constructor(
    private readonly secure: SecureMessaging,
    private readonly contacts: Contacts,
    private readonly room: RoomView,
    private readonly print: (line: string) => void,
    private readonly archive: MessageArchive,
    private readonly now: () => number,
    private readonly options: ChatMessagesOptions = {},
  ) {
    this.client = secure.client;
    this.log = new MessageLog(this.client.credentials.userId);
    const offReceipts = this.receipts.attach(this.client, (r) => void this.receiptMoved(r.chatId));
    const offExpired = this.client.on('expired', (e) => this.expire(e.chatId, e.seq));
    this.detach = () => {
      offReceipts();
      offExpired();
    };
  }

  dispose(): void {
    this.detach();
  }

  private name = (userId: string) => this.contacts.userName(userId);

  /** A decrypted incoming message: shown, kept, and marked read when its chat is open. */
  async onMessage(m: SecureMessage): Promise<void> {
    await this.loadChat(m.chatId);
    const chat = await this.room.chat(m.chatId);
    const chatName = chat ? this.contacts.chatName(chat) : m.chatId;
    const effect = this.log.apply(logInput(m));
    for (const line of effectLines(chatName, this.name, effect, m.senderUserId)) this.print(line);
    await this.keep(effect);
    if (this.room.open()?.id === m.chatId) this.markRead(m.chatId, m.seq);
  }

  /** Opened a chat: its kept messages are loaded, and everything up to its newest is read. */
  async opened(chat: ChatInfo): Promise<void> {
    await this.loadChat(chat.id);
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
    const result = await this.secure.send(
      chat.id,
      { text },
      {
        ...(replyTo !== undefined && { replyTo }),
        ...(extra.viewOnce && { viewOnce: true }),
      },
    );
    await this.showOwn(chat, result, {
      text,
      refSeq: replyTo ?? 0,
      ...(extra.viewOnce && { viewOnce: true }),
    });
  }

  /** `/file PATH`: encrypts the file, uploads it and sends it to the open chat. */
  async sendFile(path: string): Promise<void> {
    const chat = this.requireOpen();
    const f = await readFileToSend(path);
    const file = { name: f.name, mime: f.mime, size: f.bytes.length };
    let onProgress: ((sent: number, total: number, resumedAt: number) => void) | undefined;
    if (file.size >= PROGRESS_BYTES) {
      this.print(`Encrypting and sending ${fileLabel(file)}…`);
      // One line a tenth of the way (the chat's output is lines, not a redrawn bar).
      const progress = new ProgressLine({ write: (s: string) => this.print(s.trimEnd()) }, f.name);
      onProgress = (sent, total, resumedAt) => progress.update(sent, total, resumedAt);
    }
    const result = await this.secure.sendFile(
      chat.id,
      f.bytes,
      { name: f.name, mime: f.mime },
      { ...(onProgress && { onProgress }) },
    );
    if (result.previewNote) this.print(`${f.name}: ${result.previewNote}`);
    // As sent: an image without its metadata has another size; its pointer says what it shows.
    const a = result.attachment;
    await this.showOwn(chat, result, { file: { ...file, size: a.size, ...previewOf(a) } });
  }

  async run(name: string, args: string[]): Promise<void> {
    const chat = this.requireOpen();
    const seq = parseSeq(args[0]);
    switch (name) {
      case 'reply':
        return this.sendText(args[1]!, seq);
      case 'edit': {
        const text = args[1]!;
        const r = await this.secure.edit(chat.id, seq, { text });
        return this.showOwn(chat, r, { text, type: 'edit', refSeq: seq });
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
      case 'save':
        return this.save(chat, seq, args[1]!);
    }
  }

  /** The open chat's newest `n` messages from others with text, as this device decrypted them. */
  async recentFromOthers(n: number): Promise<LogEntry[]> {
    const chat = this.requireOpen();
    await this.loadChat(chat.id);
    const self = this.client.credentials.userId;
    return this.log
      .entries(chat.id)
      .filter((e) => e.senderUserId !== self && !e.deleted && !e.viewOnce && e.text !== '')
      .slice(-n);
  }

  /** `/history [N]`: the open chat's last messages as this device read them. */
  async showHistory(limit: number): Promise<void> {
    const chat = this.requireOpen();
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError('N must be 1..100');
    await this.loadChat(chat.id);
    const now = this.now();
    const entries = this.log
      .entries(chat.id)
      .filter((e) => e.expiresAt === undefined || e.expiresAt > now)
      .slice(-limit);
    const name = this.contacts.chatName(chat);
    for (const e of entries) {
      // Without ticks, as history; a view-once message is not shown again.
      const { status: _, ...shown } = e.viewOnce ? { ...e, text: '', file: undefined } : e;
      this.print(entryLine(name, this.name(e.senderUserId), shown));
      if (e.reactions.size > 0) this.print(reactionsLine(name, e.seq, e.reactions));
    }
    if (entries.length === 0) this.print('No messages on this device for this chat.');
  }

  /** Re-encrypts the decrypted content for each target chat (old ciphertext is never resent). */
  private async forward(chat: ChatInfo, seq: number, numbers: string[]): Promise<void> {
    const source = await this.find(chat.id, seq);
    if (source.deleted || (source.text === '' && !source.file))
      throw new CliError(`message #${seq} has no content`);
    if (source.file && !source.file.pointer)
      throw new CliError(`message #${seq} is a file sent from this device: send it again with /file`);
    const targets = numbers.map((n) => {
      const target = this.room.numbered(Number(n));
      if (!target) throw new CliError(`no chat ${n}: /chats lists them`);
      return target;
    });
    const content: SecureContent = {
      ...(source.text !== '' && { text: source.text }),
      ...(source.file?.pointer && { attachment: source.file.pointer }),
    };
    const forwardCount = source.forwardCount + 1;
    const results = await this.secure.forward(
      targets.map((t) => t.id),
      content,
      forwardCount,
    );
    for (const [i, r] of results.entries()) {
      await this.showOwn(targets[i]!, r, {
        text: source.text,
        ...(source.file && { file: source.file }),
        forwardCount,
      });
    }
  }

  /**
   * `/save SEQ PATH`: downloads, checks and decrypts the file of message SEQ, going on from
   * the bytes a cut-off /save (or `parley download`) kept; the kept part goes once the file
   * is written, and stays when writing fails (another PATH then needs no download).
   */
  private async save(chat: ChatInfo, seq: number, path: string): Promise<void> {
    const entry = await this.find(chat.id, seq);
    const file = entry.deleted ? undefined : entry.file;
    if (!file) throw new CliError(`message #${seq} has no file`);
    const pointer = file.pointer;
    if (!pointer) throw new CliError(`message #${seq} is a file sent from this device: it is not kept here`);
    const big = file.size >= PROGRESS_BYTES;
    if (big) this.print(`Downloading ${fileLabel(file)}…`);
    const download = (have: Uint8Array, onChunk?: (chunk: Uint8Array, offset: number) => Promise<void>) => {
      // A new line for each attempt (a kept start that fails its digest starts from zero); a
      // resumed one says where it goes on from, whatever the file's size.
      const progress =
        big || have.length > 0
          ? new ProgressLine({ write: (s: string) => this.print(s.trimEnd()) }, file.name ?? 'file')
          : undefined;
      return this.secure.download(pointer, {
        ...(have.length > 0 && { have }),
        ...(onChunk && { onChunk }),
        ...(progress && { onProgress: (received, total) => progress.update(received, total, have.length) }),
      });
    };
    const downloads = this.options.downloads;
    const part = downloads === undefined ? undefined : await keptPart(downloads, pointer.mediaId);
    const bytes = part ? await downloadKept(part, download) : await download(new Uint8Array());
    const written = await writeReceivedFile(path, file, seq, bytes);
    if (part) await removeKeptPart(part);
    this.print(`Saved ${fileLabel(file)} to ${written}.`);
  }

  /** Message `seq` of a chat as this device read it (the server only has ciphertext). */
  private async find(chatId: string, seq: number): Promise<LogEntry> {
    await this.loadChat(chatId);
    const known = this.log.get(chatId, seq);
    if (!known) throw new CliError(`no message #${seq} on this device (/history lists what is here)`);
    return known;
  }

  /** Loads a chat's kept messages into the log, once. */
  private loadChat(chatId: string): Promise<void> {
    let loading = this.loaded.get(chatId);
    if (!loading) {
      loading = this.archive.load(chatId, this.now()).then((entries) => this.log.restore(entries));
      this.loaded.set(chatId, loading);
      loading.catch(() => this.loaded.delete(chatId)); // tried again next time
    }
    return loading;
  }

  /** Keeps the message an effect created or changed. */
  private async keep(effect: LogEffect): Promise<void> {
    if (effect.entry) await this.archive.save(effect.entry);
  }

  /** A disappearing message's time is up: it goes from the log and the archive. */
  private expire(chatId: string, seq: number): Promise<void> {
    this.log.remove(chatId, seq);
    return this.archive.remove(chatId, seq);
  }

  /** Shows a message of the user's (✓ for a new one) as the log now sees it, and keeps it. */
  private async showOwn(
    chat: ChatInfo,
    r: SendResult,
    meta: {
      text?: string;
      file?: FileInfo;
      type?: 'message' | 'edit' | 'delete' | 'reaction';
      refSeq?: number;
      reaction?: string;
      forwardCount?: number;
      viewOnce?: boolean;
    },
  ): Promise<void> {
    await this.loadChat(r.chatId);
    const self = this.client.credentials.userId;
    const type = meta.type ?? 'message';
    const timer = type === 'message' ? chat.disappearingSeconds : 0;
    const effect = this.log.sent({
      chatId: r.chatId,
      seq: r.seq,
      senderUserId: self,
      text: meta.text ?? '',
      ...(meta.file && { file: meta.file }),
      meta: {
        type,
        refSeq: meta.refSeq ?? 0,
        reaction: meta.reaction ?? '',
        mentions: [],
        forwardCount: meta.forwardCount ?? 0,
        ...(meta.viewOnce && { viewOnce: true }),
      },
      forwardedMany: (meta.forwardCount ?? 0) > 5,
      deleted: false,
      ...(timer > 0 && { expiresAt: r.serverTime + timer * 1000 }),
    });
    if (effect.kind === 'message') effect.entry.status = this.statusOf(chat, r.seq);
    for (const line of effectLines(this.contacts.chatName(chat), this.name, effect, self)) this.print(line);
    await this.keep(effect);
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
