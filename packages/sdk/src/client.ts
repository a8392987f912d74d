/**
 * ParleyClient: the typed API over ClientCore (one method per request type). Payloads
 * are opaque bytes; end-to-end encryption will wrap `send` and the `message` event.
 */
import { type Chat, type ChatKind, ParleyError } from '@parley/protocol';
import { ClientCore } from './client-core.js';
import { num, toChat, toReceived, u64 } from './convert.js';
import { DISCOVER_BATCH, hashPhone, hex, normalizePhone } from './discover.js';
import { newClientMessageId } from './ids.js';
import type { SendInit } from './outbox.js';
import type { ChatInfo, HistoryPage, SendResult } from './types.js';

/** One ciphertext for every recipient device, or one per device. */
export type SendContent = Uint8Array | readonly { deviceId: string; payload: Uint8Array }[];

export interface SendOptions {
  /** Idempotency key: 1..64 printable ASCII characters; default 16 random bytes, base64url. */
  clientMessageId?: string;
}

export interface HistoryOptions {
  /** At most one of beforeSeq / afterSeq; neither means the newest page. limit: 1..100, default 50. */
  beforeSeq?: number;
  afterSeq?: number;
  limit?: number;
}

export interface DiscoverMatch {
  phone: string;
  userId: string;
}

export interface UserDeviceIds {
  userId: string;
  deviceIds: string[];
}

function chatOf(result: { chat?: Chat }): ChatInfo {
  if (!result.chat) throw new ParleyError('INTERNAL', 'chat result without a chat');
  return toChat(result.chat);
}

export class ParleyClient extends ClientCore {
  /**
   * Sends a message. Resolves once the server stored it (its seq); survives reconnects:
   * while disconnected it waits in the outbox and is re-sent with the same clientMessageId.
   */
  send(chatId: string, content: SendContent, options: SendOptions = {}): Promise<SendResult> {
    const clientMessageId = options.clientMessageId ?? newClientMessageId();
    if (!/^[\x20-\x7e]{1,64}$/.test(clientMessageId)) {
      return Promise.reject(
        new ParleyError('INVALID_ARGUMENT', 'clientMessageId must be 1..64 printable ASCII'),
      );
    }
    const request: SendInit = { clientMessageId, chatId };
    const max = this.welcome?.maxPayloadBytes ?? 0;
    const payloads = content instanceof Uint8Array ? [content] : content.map((d) => d.payload);
    if (payloads.length === 0 || payloads.some((p) => p.byteLength === 0)) {
      return Promise.reject(new ParleyError('INVALID_ARGUMENT', 'a payload must not be empty'));
    }
    if (max > 0 && payloads.some((p) => p.byteLength > max)) return tooLarge(max);
    if (content instanceof Uint8Array) request.payload = content;
    else request.devicePayloads = content.map(({ deviceId, payload }) => ({ deviceId, payload }));
    return this.enqueueSend(request);
  }

  /** Creates a chat with the caller as creator. DIRECT: exactly one other member. */
  async createChat(input: {
    kind: ChatKind;
    memberUserIds: string[];
    name?: string;
    description?: string;
  }): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'createChat', value: input }, 'chatResult'));
  }

  async addMembers(chatId: string, userIds: string[]): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'addMembers', value: { chatId, userIds } }, 'chatResult'));
  }

  async removeMember(chatId: string, userId: string): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'removeMember', value: { chatId, userId } }, 'chatResult'));
  }

  async updateChat(chatId: string, changes: { name?: string; description?: string }): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'updateChat', value: { chatId, ...changes } }, 'chatResult'));
  }

  leaveChat(chatId: string): Promise<void> {
    return this.requestDone({ case: 'leaveChat', value: { chatId } });
  }

  async listChats(): Promise<ChatInfo[]> {
    return (await this.request({ case: 'listChats', value: {} }, 'chatList')).chats.map(toChat);
  }

  async getChat(chatId: string): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'getChat', value: { chatId } }, 'chatResult'));
  }

  /** A page of stored messages (payloads for this device) and whether there are more. */
  async history(chatId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const value = {
      chatId,
      limit: options.limit ?? 50,
      ...(options.beforeSeq === undefined ? {} : { beforeSeq: u64(options.beforeSeq) }),
      ...(options.afterSeq === undefined ? {} : { afterSeq: u64(options.afterSeq) }),
    };
    const result = await this.request({ case: 'history', value }, 'historyResult');
    // Oldest first, whatever order the server used (protocol.md promises increasing seqs).
    const messages = result.messages
      .map(toReceived)
      .filter((m) => m !== undefined)
      .sort((a, b) => a.seq - b.seq);
    return { messages, more: result.more };
  }

  /** Current device ids of the given users (for per-device payloads). */
  async listDevices(userIds: string[]): Promise<UserDeviceIds[]> {
    const result = await this.request({ case: 'listDevices', value: { userIds } }, 'deviceList');
    return result.users.map((u) => ({ userId: u.userId, deviceIds: [...u.deviceIds] }));
  }

  /**
   * Which of these phone numbers have accounts. Only SHA-256 hashes of the E.164 numbers
   * are sent; throws INVALID_PHONE for a number that is not E.164-shaped.
   */
  async discover(phones: readonly string[]): Promise<DiscoverMatch[]> {
    const byHash = new Map<string, string>();
    const hashes: Uint8Array[] = [];
    for (const phone of new Set(phones.map(normalizePhone))) {
      const hash = await hashPhone(phone);
      byHash.set(hex(hash), phone);
      hashes.push(hash);
    }
    const matches: DiscoverMatch[] = [];
    for (let i = 0; i < hashes.length; i += DISCOVER_BATCH) {
      const phoneHashes = hashes.slice(i, i + DISCOVER_BATCH);
      const result = await this.request({ case: 'discover', value: { phoneHashes } }, 'discoverResult');
      for (const m of result.matches) {
        const phone = byHash.get(hex(m.phoneHash));
        if (phone !== undefined) matches.push({ phone, userId: m.userId });
      }
    }
    return matches;
  }

  /** Round trip to the server; resolves with its clock (ms since the epoch). */
  async ping(): Promise<number> {
    return num((await this.request({ case: 'ping', value: {} }, 'pong')).serverTime);
  }
}

function tooLarge(max: number): Promise<never> {
  return Promise.reject(
    new ParleyError('PAYLOAD_TOO_LARGE', `payload exceeds the server limit of ${max} bytes`),
  );
}
