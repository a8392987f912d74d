/**
 * Sends not yet answered, in the order they were issued. An entry stays until its send
 * gets a final answer, so after a reconnect everything still here is re-sent in order
 * with the same clientMessageId (the server is idempotent on it).
 */
import type { MessageType, ParleyError } from '@parley/protocol';
import type { SendResult } from './types.js';

export interface SendInit {
  clientMessageId: string;
  chatId: string;
  payload?: Uint8Array;
  devicePayloads?: { deviceId: string; payload: Uint8Array }[];
  pushPreviews?: { deviceId: string; payload: Uint8Array }[];
  /** The attachments the content references (sendRequest.mediaIds). */
  mediaIds?: string[];
  meta?: {
    type?: MessageType;
    refSeq?: bigint;
    reaction?: string;
    mentions?: string[];
    forwardCount?: number;
    viewOnce?: boolean;
  };
}

export interface OutboxEntry {
  readonly request: SendInit;
  /** Frame id while the send is on the current socket; undefined while it waits for one. */
  frameId: number | undefined;
  resolve(result: SendResult): void;
  reject(err: ParleyError): void;
}

export class Outbox {
  // A Set keeps insertion order and deletes in O(1), whichever entry is answered first.
  private readonly entries = new Set<OutboxEntry>();

  get size(): number {
    return this.entries.size;
  }

  add(entry: OutboxEntry): void {
    this.entries.add(entry);
  }

  /** Entries waiting for a socket, oldest first. */
  waiting(): OutboxEntry[] {
    return [...this.entries].filter((e) => e.frameId === undefined);
  }

  /** Final answer: the entry leaves the outbox and its promise settles. */
  resolve(entry: OutboxEntry, result: SendResult): void {
    if (this.entries.delete(entry)) entry.resolve(result);
  }

  reject(entry: OutboxEntry, err: ParleyError): void {
    if (this.entries.delete(entry)) entry.reject(err);
  }

  /** The client stops for good: every send fails. */
  rejectAll(err: ParleyError): void {
    const entries = [...this.entries];
    this.entries.clear();
    for (const entry of entries) entry.reject(err);
  }
}
