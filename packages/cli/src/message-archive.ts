/**
 * This device's copy of the messages it read, so history, /forward and /save outlive a
 * restart: pairwise ciphertext can be decrypted only once, so the server's history cannot
 * be shown in clear. It lives in the profile's history store (a file of the profile
 * directory, 0600). Each message is kept as it now stands (edits, deletes and reactions
 * applied), at most MESSAGES_KEPT_PER_CHAT per chat; a deleted message keeps no content,
 * and view-once and expired messages are never kept.
 */
import type { KeyValueStore } from '@parley/sdk';
import { type FileInfo, type LogEntry, MESSAGES_KEPT_PER_CHAT } from './message-log.js';

/** One namespace per chat; keys are zero-padded seqs, so their order is the seq order. */
const nsOf = (chatId: string) => `chat:${chatId}`;
const keyOf = (seq: number) => String(seq).padStart(16, '0');

interface StoredFile {
  name?: string;
  mime?: string;
  size: number;
  /** The pointer: media id, key and digest (base64). */
  id?: string;
  key?: string;
  digest?: string;
  /** What it shows before download: dimensions, duration, thumbnail (base64) and blurhash. */
  w?: number;
  h?: number;
  du?: number;
  th?: { b: string; m: 'image/jpeg' | 'image/webp'; w: number; h: number };
  bh?: string;
}

interface StoredEntry {
  v: 1;
  seq: number;
  sender: string;
  text: string;
  file?: StoredFile;
  replyTo: number;
  mentions: string[];
  forwardCount: number;
  forwardedMany: boolean;
  edited: boolean;
  deleted: boolean;
  reactions: Record<string, string>;
  expiresAt?: number;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function encodeFile(f: FileInfo): StoredFile {
  const p = f.pointer;
  const v = f.preview;
  const t = p?.thumbnail;
  return {
    size: f.size,
    ...(f.name !== undefined && { name: f.name }),
    ...(f.mime !== undefined && { mime: f.mime }),
    ...(p && { id: p.mediaId, key: b64(p.key), digest: b64(p.digest) }),
    ...(v?.width !== undefined && v.height !== undefined && { w: v.width, h: v.height }),
    ...(v?.durationMs !== undefined && { du: v.durationMs }),
    ...(t && { th: { b: b64(t.bytes), m: t.mime, w: t.width, h: t.height } }),
    ...(p?.blurhash !== undefined && { bh: p.blurhash }),
  };
}

function decodeFile(s: StoredFile): FileInfo {
  const meta = {
    ...(s.name !== undefined && { name: s.name }),
    ...(s.mime !== undefined && { mime: s.mime }),
  };
  const shown = {
    ...(typeof s.w === 'number' && typeof s.h === 'number' && { width: s.w, height: s.h }),
    ...(typeof s.du === 'number' && { durationMs: s.du }),
  };
  const th = s.th && typeof s.th.b === 'string' ? s.th : undefined;
  const thumbnail = th && { bytes: unb64(th.b), mime: th.m, width: th.w, height: th.h };
  const pointerless: FileInfo = { size: s.size, ...meta };
  const preview = {
    ...shown,
    ...(thumbnail && { thumbnail: { width: thumbnail.width, height: thumbnail.height } }),
  };
  if (Object.keys(preview).length > 0) pointerless.preview = preview;
  if (s.id === undefined || s.key === undefined || s.digest === undefined) return pointerless;
  return {
    ...pointerless,
    pointer: {
      mediaId: s.id,
      key: unb64(s.key),
      digest: unb64(s.digest),
      size: s.size,
      ...meta,
      ...shown,
      ...(thumbnail && { thumbnail }),
      ...(typeof s.bh === 'string' && { blurhash: s.bh }),
    },
  };
}

function encodeEntry(e: LogEntry): Uint8Array {
  const stored: StoredEntry = {
    v: 1,
    seq: e.seq,
    sender: e.senderUserId,
    text: e.text,
    ...(e.file && { file: encodeFile(e.file) }),
    replyTo: e.replyTo,
    mentions: e.mentions,
    forwardCount: e.forwardCount,
    forwardedMany: e.forwardedMany,
    edited: e.edited,
    deleted: e.deleted,
    reactions: Object.fromEntries(e.reactions),
    ...(e.expiresAt !== undefined && { expiresAt: e.expiresAt }),
  };
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

/** An entry, or undefined when the stored value is not one (it is then dropped). */
function decodeEntry(chatId: string, bytes: Uint8Array): LogEntry | undefined {
  let s: StoredEntry;
  try {
    s = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredEntry;
  } catch {
    return undefined;
  }
  if (s?.v !== 1 || typeof s.seq !== 'number' || typeof s.sender !== 'string') return undefined;
  return {
    chatId,
    seq: s.seq,
    senderUserId: s.sender,
    text: typeof s.text === 'string' ? s.text : '',
    ...(s.file && { file: decodeFile(s.file) }),
    replyTo: s.replyTo ?? 0,
    mentions: s.mentions ?? [],
    forwardCount: s.forwardCount ?? 0,
    forwardedMany: s.forwardedMany === true,
    edited: s.edited === true,
    deleted: s.deleted === true,
    reactions: new Map(Object.entries(s.reactions ?? {})),
    ...(s.expiresAt !== undefined && { expiresAt: s.expiresAt }),
  };
}

export class MessageArchive {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly keep = MESSAGES_KEPT_PER_CHAT,
  ) {}

  /** A chat's kept messages, oldest first; expired (and unreadable) ones are deleted. */
  async load(chatId: string, now: number): Promise<LogEntry[]> {
    const ns = nsOf(chatId);
    const out: LogEntry[] = [];
    for (const key of await this.kv.keys(ns)) {
      const raw = await this.kv.get(ns, key);
      const entry = raw && decodeEntry(chatId, raw);
      if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= now)) await this.kv.delete(ns, key);
      else out.push(entry);
    }
    return out;
  }

  /** Keeps a message as it now stands (a view-once one is not kept); drops the oldest. */
  async save(entry: LogEntry): Promise<void> {
    if (entry.viewOnce) return;
    const ns = nsOf(entry.chatId);
    await this.kv.put(ns, keyOf(entry.seq), encodeEntry(entry));
    const keys = await this.kv.keys(ns);
    for (const key of keys.slice(0, Math.max(0, keys.length - this.keep))) await this.kv.delete(ns, key);
  }

  async remove(chatId: string, seq: number): Promise<void> {
    await this.kv.delete(nsOf(chatId), keyOf(seq));
  }
}
