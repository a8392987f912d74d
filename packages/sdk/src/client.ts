/**
 * ParleyClient: the typed API over ClientCore (one method per request type). Payloads
 * are opaque bytes; end-to-end encryption will wrap `send` and the `message` event.
 */
import { type Chat, type ChatKind, ParleyError } from '@parley/protocol';
import { ClientCore } from './client-core.js';
import {
  num,
  privacyFromWire,
  privacyToWire,
  toChat,
  toPresence,
  toReceived,
  typingStateToWire,
  u64,
} from './convert.js';
import { DISCOVER_BATCH, hashPhone, hex, normalizePhone } from './discover.js';
import { newClientMessageId } from './ids.js';
import type { SendInit } from './outbox.js';
import type {
  ChatInfo,
  HistoryPage,
  LastSeenPrivacy,
  PresenceInfo,
  SendResult,
  TypingStatus,
} from './types.js';

/** Most users one presence subscription may name (the server's limit). */
export const MAX_PRESENCE_SUBSCRIPTIONS = 256;

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
  /** The users whose presence the app wants, re-subscribed on every new connection. */
  private presenceWanted: readonly string[] = [];
  /** subscribePresence requests go one at a time, so the last one asked for is the one in force. */
  private presenceQueue: Promise<unknown> = Promise.resolve();

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

  /**
   * Watches these users' presence (at most 256; an empty list stops watching): resolves with
   * each one's presence now, then `presence` events follow on every change. Replaces the
   * previous list. Users who share no chat with this user come back offline with lastSeen 0.
   *
   * The subscription belongs to the connection, so the client subscribes again after every
   * reconnect and emits each user's presence then as `presence` events. The list is kept
   * when this call fails because the client is not connected (UNAVAILABLE), and dropped
   * when the server refuses it.
   */
  subscribePresence(userIds: readonly string[]): Promise<PresenceInfo[]> {
    if (userIds.length > MAX_PRESENCE_SUBSCRIPTIONS) {
      return Promise.reject(
        new ParleyError('INVALID_ARGUMENT', `at most ${MAX_PRESENCE_SUBSCRIPTIONS} users per subscription`),
      );
    }
    if (userIds.some((id) => typeof id !== 'string' || id === '')) {
      return Promise.reject(new ParleyError('INVALID_ARGUMENT', 'user ids must be non-empty strings'));
    }
    const wanted = [...userIds];
    this.presenceWanted = wanted;
    const result = this.inPresenceQueue(() => this.sendPresenceSubscription(wanted));
    result.catch((err: unknown) => {
      // Refused by the server (not merely unsent): do not send that list again on reconnect.
      const unsent = err instanceof ParleyError && err.code === 'UNAVAILABLE';
      if (!unsent && this.presenceWanted === wanted) this.presenceWanted = [];
    });
    return result;
  }

  /**
   * Tells the other members' online devices that this user is typing in the chat
   * (`composing`, shown for 10 s unless renewed) or stopped (`paused`). Send `composing` at
   * most every few seconds while the user types; the server allows 5 a second.
   */
  typing(chatId: string, state: TypingStatus): Promise<void> {
    const wire = typingStateToWire(state);
    if (wire === undefined) {
      return Promise.reject(new ParleyError('INVALID_ARGUMENT', "state must be 'composing' or 'paused'"));
    }
    return this.requestDone({ case: 'typing', value: { chatId, state: wire } });
  }

  /**
   * Who may see this user's last-seen time: everyone sharing a chat, only contacts (users
   * with a direct chat with this user) or nobody. With 'nobody' this user cannot see
   * anyone's last seen either. Online status stays visible to everyone sharing a chat.
   * Resolves with the setting now in force.
   */
  async setLastSeenPrivacy(privacy: LastSeenPrivacy): Promise<LastSeenPrivacy> {
    const lastSeen = privacyToWire(privacy);
    if (lastSeen === undefined) {
      throw new ParleyError('INVALID_ARGUMENT', "privacy must be 'everyone', 'contacts' or 'nobody'");
    }
    const result = await this.request({ case: 'setPrivacy', value: { lastSeen } }, 'privacyResult');
    return privacyFromWire(result.lastSeen);
  }

  /** This user's current last-seen privacy setting. */
  async lastSeenPrivacy(): Promise<LastSeenPrivacy> {
    const result = await this.request({ case: 'setPrivacy', value: {} }, 'privacyResult');
    return privacyFromWire(result.lastSeen);
  }

  protected override afterWelcome(): void {
    if (this.presenceWanted.length === 0) return;
    // The newest list when its turn comes (a subscribePresence call may be queued before it).
    this.inPresenceQueue(() => this.sendPresenceSubscription(this.presenceWanted)).then(
      (users) => {
        for (const p of users) this.emit('presence', p);
      },
      (err: unknown) => {
        // A connection lost again re-subscribes on the next one.
        if (err instanceof ParleyError && err.code === 'UNAVAILABLE') return;
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private async sendPresenceSubscription(wanted: readonly string[]): Promise<PresenceInfo[]> {
    const userIds = [...wanted];
    const result = await this.request({ case: 'subscribePresence', value: { userIds } }, 'presenceList');
    return result.users.map(toPresence);
  }

  private inPresenceQueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.presenceQueue.then(fn, fn);
    this.presenceQueue = run.catch(() => {});
    return run;
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
