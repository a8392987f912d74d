/**
 * The bookkeeping of retries after a failed decrypt, on both sides:
 * - as a sender, what this device sent in the last `windowMs` (the plaintext envelope, in its
 *   own key store), so it can encrypt a message again for a device that could not read it;
 * - as a recipient, the messages this device could not decrypt (their metadata), asked for
 *   again at once, on every reconnect and every `RETRY_EVERY_MS` while connected, until the
 *   new ciphertext arrives or `windowMs` has passed.
 * The server stores nothing of a retry; this state is all there is.
 */
import { ParleyError } from '@parley/protocol';
import type { KeyValueStore } from '../crypto/types.js';
import type { ReceivedMessage } from '../types.js';
import type { Timers } from '../typing.js';
import { decodeEnvelope, type Envelope, encodeEnvelope } from './content.js';

const DAY = 24 * 60 * 60 * 1000;
export const DEFAULT_RETRY_WINDOW_MS = 7 * DAY;
/** While connected, unanswered requests are repeated this often (the sender may come online). */
export const RETRY_EVERY_MS = 10 * 60_000;
/** What was sent is swept for records past the window at most this often (a pass reads them all). */
const SWEEP_SENT_EVERY_MS = 60 * 60_000;
/** At most this many requests per pass: the server allows 120 a minute per device. */
const MAX_REQUESTS_PER_PASS = 60;

const NS = { sent: 'e2e-sent', failed: 'e2e-failed' } as const;
const utf8 = new TextEncoder();
const unutf8 = new TextDecoder();

/** What a recipient keeps of a message it could not decrypt. */
export type FailedMessage = Omit<ReceivedMessage, 'payload'>;

interface FailedRecord {
  at: number;
  message: FailedMessage;
}

interface SentRecord {
  at: number;
  group: boolean;
  /** The encoded envelope, base64. */
  env: string;
}

const keyOf = (chatId: string, seq: number) => JSON.stringify([chatId, seq]);
const toJson = (v: unknown) => utf8.encode(JSON.stringify(v));
const b64 = (b: Uint8Array) => {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
};
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export interface RetryBookDeps {
  kv: KeyValueStore;
  timers: Timers;
  windowMs: number;
  /** Asks the server to relay a retry request (rejects when offline). */
  request(chatId: string, seq: number): Promise<void>;
  isConnected(): boolean;
  error(err: Error): void;
}

export class RetryBook {
  private timer: unknown;
  private stopped = false;
  private pass: Promise<void> | undefined;
  private sweptSentAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: RetryBookDeps) {}

  // -- sender side -------------------------------------------------------------------------

  /** Keeps what was sent as message `seq`, for `windowMs`. */
  async sent(chatId: string, seq: number, content: Envelope, group: boolean): Promise<void> {
    const { senderKey: _, resendOf: __, ...plain } = content;
    const record: SentRecord = { at: this.d.timers.now(), group, env: b64(encodeEnvelope(plain)) };
    await this.d.kv.put(NS.sent, keyOf(chatId, seq), toJson(record));
  }

  /** What this device sent as message `seq`, while it is kept. */
  async sentContent(chatId: string, seq: number): Promise<{ content: Envelope; group: boolean } | undefined> {
    const raw = await this.d.kv.get(NS.sent, keyOf(chatId, seq));
    if (!raw) return undefined;
    const r = JSON.parse(unutf8.decode(raw)) as SentRecord;
    if (this.d.timers.now() - r.at > this.d.windowMs) return undefined;
    return { content: decodeEnvelope(unb64(r.env)), group: r.group };
  }

  // -- recipient side ----------------------------------------------------------------------

  /** Records a message that could not be decrypted and asks for it again at once. */
  async failed(message: FailedMessage): Promise<void> {
    const record: FailedRecord = { at: this.d.timers.now(), message };
    await this.d.kv.put(NS.failed, keyOf(message.chatId, message.seq), toJson(record));
    await this.ask(message.chatId, message.seq);
    this.schedule();
  }

  /** The failed message `seq`, if this device is still waiting for it. */
  async waiting(chatId: string, seq: number): Promise<FailedMessage | undefined> {
    const raw = await this.d.kv.get(NS.failed, keyOf(chatId, seq));
    return raw ? (JSON.parse(unutf8.decode(raw)) as FailedRecord).message : undefined;
  }

  /** The message arrived again and was decrypted. */
  resolved(chatId: string, seq: number): Promise<void> {
    return this.d.kv.delete(NS.failed, keyOf(chatId, seq));
  }

  /** How many failed messages are still waiting. */
  async pending(): Promise<number> {
    return (await this.d.kv.keys(NS.failed)).length;
  }

  // -- passes --------------------------------------------------------------------------------

  /** On every (re)connect: asks again for what is still missing and forgets what is too old. */
  connected(): Promise<void> {
    this.pass ??= this.runPass().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.d.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runPass(): Promise<void> {
    const now = this.d.timers.now();
    try {
      if (now - this.sweptSentAt >= SWEEP_SENT_EVERY_MS) {
        this.sweptSentAt = now;
        for (const key of await this.d.kv.keys(NS.sent)) {
          const raw = await this.d.kv.get(NS.sent, key);
          if (raw && now - (JSON.parse(unutf8.decode(raw)) as SentRecord).at > this.d.windowMs) {
            await this.d.kv.delete(NS.sent, key);
          }
        }
      }
      let asked = 0;
      for (const key of await this.d.kv.keys(NS.failed)) {
        const raw = await this.d.kv.get(NS.failed, key);
        if (!raw) continue;
        const r = JSON.parse(unutf8.decode(raw)) as FailedRecord;
        if (now - r.at > this.d.windowMs) {
          await this.d.kv.delete(NS.failed, key);
          continue;
        }
        if (asked++ >= MAX_REQUESTS_PER_PASS || !this.d.isConnected()) break;
        if (!(await this.ask(r.message.chatId, r.message.seq))) break;
      }
    } catch (err) {
      this.d.error(err instanceof Error ? err : new Error(String(err)));
    }
    if ((await this.pending().catch(() => 0)) > 0) this.schedule();
  }

  /**
   * One request; false when asking more now is pointless (offline, rate limited). A message
   * the server no longer has (deleted, expired) is forgotten.
   */
  private async ask(chatId: string, seq: number): Promise<boolean> {
    try {
      await this.d.request(chatId, seq);
      return true;
    } catch (err) {
      if (err instanceof ParleyError && ['NOT_FOUND', 'NOT_A_MEMBER', 'CHAT_NOT_FOUND'].includes(err.code)) {
        await this.d.kv.delete(NS.failed, keyOf(chatId, seq));
        return true;
      }
      if (
        !(err instanceof ParleyError) ||
        !['UNAVAILABLE', 'RATE_LIMITED', 'SHUTTING_DOWN'].includes(err.code)
      ) {
        this.d.error(err instanceof Error ? err : new Error(String(err)));
      }
      return false;
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = this.d.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.d.isConnected()) void this.connected();
      else this.schedule();
    }, RETRY_EVERY_MS);
  }
}
