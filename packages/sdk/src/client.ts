/**
 * ParleyClient: the typed API over ClientCore (one method per request type). Payloads
 * are opaque bytes; end-to-end encryption will wrap `send` and the `message` event.
 */

import { CallEndReason, type Chat, type ChatKind, MessageType, ParleyError, Role } from '@parley/protocol';
import {
  type BlockedUserInfo,
  type ReportInput,
  type ReportOutcome,
  reportToWire,
  toBlockList,
} from './blocking.js';
import { type CallResultInfo, type IceServerInfo, toCallResult } from './calls/wire.js';
import { ClientCore } from './client-core.js';
import {
  num,
  pinDurationToWire,
  privacyFromWire,
  privacyToWire,
  toChat,
  toPresence,
  toReceipts,
  toReceived,
  toSealedProfile,
  toSendResult,
  typingStateToWire,
  u64,
} from './convert.js';
import { DISCOVER_BATCH, hashPhone, hex, normalizePhone } from './discover.js';
import { newClientMessageId } from './ids.js';
import { type MuteUntil, muteUntilToWire } from './mutes.js';
import type { SendInit } from './outbox.js';
import {
  type PushRegistrationInfo,
  type PushTargetInput,
  toRegisterPush,
  toRegistrationInfo,
} from './push.js';
import type {
  ChatInfo,
  DisappearingSeconds,
  GroupRole,
  HistoryPage,
  InviteInfo,
  LastSeenPrivacy,
  MarkReadInfo,
  MessageReceipts,
  PinDuration,
  PresenceInfo,
  ProfileChangesPage,
  SealedProfile,
  SendResult,
  TypingStatus,
} from './types.js';

/** Most chats one `forward` may reach (the server's limit). */
export const MAX_FORWARD_TARGETS = 5;

/** Disappearing timers the server accepts, in seconds: off, 24 h, 7 days, 90 days. */
export const DISAPPEARING_TIMERS: readonly DisappearingSeconds[] = [0, 86400, 604800, 7776000];

/** Most users one presence subscription may name (the server's limit). */
export const MAX_PRESENCE_SUBSCRIPTIONS = 256;

/** One ciphertext for every recipient device, or one per device. */
export type SendContent = Uint8Array | readonly { deviceId: string; payload: Uint8Array }[];

export interface SendOptions {
  /** Idempotency key: 1..64 printable ASCII characters; default 16 random bytes, base64url. */
  clientMessageId?: string;
  /** The seq of the message this one replies to. */
  replyTo?: number;
  /** User ids of members mentioned (at most 50). */
  mentions?: readonly string[];
  /** View once: the server drops the payload once the first recipient device has it. */
  viewOnce?: boolean;
  /**
   * `send` only: a preview sealed for each recipient device (at most 1,024 bytes each), which
   * the server carries opaque in the push a device gets while offline. SecureMessaging makes
   * these (see its `pushPreviews` option); nothing else needs to.
   */
  pushPreviews?: readonly { deviceId: string; payload: Uint8Array }[];
  /**
   * `send` and `edit`: the media ids of the attachments the content references (at most
   * 16), so the chat's members may fetch them. SecureMessaging declares its attachments.
   */
  mediaIds?: readonly string[];
}

export interface ChatChanges {
  name?: string;
  description?: string;
  /** Groups: the icon's media id (an image uploaded with `uploadMedia`), '' to remove it. */
  iconMediaId?: string;
  /** Groups: only admins (and the creator) may send. Admins only. */
  onlyAdminsSend?: boolean;
  /** Groups: only admins may change name and description. Admins only. */
  onlyAdminsEditInfo?: boolean;
}

export interface ForwardTarget {
  chatId: string;
  payload: SendContent;
  clientMessageId?: string;
  /** The media ids of the attachments the content references (see SendOptions.mediaIds). */
  mediaIds?: readonly string[];
}

/** Attachments one message may declare (the server's limit). */
export const MAX_MEDIA_IDS = 16;

function checkMediaIds(ids: readonly string[]): void {
  if (ids.length > MAX_MEDIA_IDS)
    throw new ParleyError('INVALID_ARGUMENT', `at most ${MAX_MEDIA_IDS} mediaIds per message`);
  if (ids.some((id) => !/^[0-9a-f]{64}$/.test(id)))
    throw new ParleyError('INVALID_ARGUMENT', 'each of mediaIds is a media id (64 lowercase hex digits)');
}

type Meta = NonNullable<SendInit['meta']>;

/** Bytes of one sealed push preview the server accepts. */
const MAX_PUSH_PREVIEW_BYTES = 1024;

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

export interface SignedKeyInfo {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface KeyUploadInit {
  identityKey?: Uint8Array;
  registrationId?: number;
  signedPreKey?: SignedKeyInfo;
  lastResortKey?: SignedKeyInfo;
  oneTimePreKeys?: Array<{ id: number; publicKey: Uint8Array }>;
  replaceOneTime?: boolean;
}

export interface PreKeyBundleInfo {
  userId: string;
  deviceId: string;
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: SignedKeyInfo;
  lastResortKey: SignedKeyInfo;
  oneTimePreKey?: { id: number; publicKey: Uint8Array };
}

export interface DeviceIdentityInfo {
  userId: string;
  deviceId: string;
  registrationId: number;
  identityKey: Uint8Array;
}

function signedKeyOf(k: SignedKeyInfo | undefined): SignedKeyInfo {
  if (!k) throw new ParleyError('INTERNAL', 'prekey bundle without a signed key');
  return { id: k.id, publicKey: k.publicKey, signature: k.signature };
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
    const meta: Meta = {};
    if (options.replyTo !== undefined) {
      if (!validSeq(options.replyTo)) return badSeq();
      meta.refSeq = u64(options.replyTo);
    }
    if (options.mentions !== undefined && options.mentions.length > 0) meta.mentions = [...options.mentions];
    if (options.viewOnce === true) meta.viewOnce = true;
    return this.sendWithMeta(
      chatId,
      content,
      options.clientMessageId,
      meta,
      options.pushPreviews,
      options.mediaIds,
    );
  }

  /** New content for message `seq` (the sender only, within 15 minutes of it). */
  edit(chatId: string, seq: number, content: SendContent, options: SendOptions = {}): Promise<SendResult> {
    if (!validSeq(seq)) return badSeq();
    const meta: Meta = { type: MessageType.EDIT, refSeq: u64(seq) };
    return this.sendWithMeta(chatId, content, options.clientMessageId, meta, undefined, options.mediaIds);
  }

  /** Deletes message `seq` for everyone (its sender within 48 h, or a group admin). */
  deleteForEveryone(chatId: string, seq: number, options: SendOptions = {}): Promise<SendResult> {
    if (!validSeq(seq)) return badSeq();
    const meta: Meta = { type: MessageType.DELETE, refSeq: u64(seq) };
    return this.sendWithMeta(chatId, undefined, options.clientMessageId, meta);
  }

  /** Reacts to message `seq` with one emoji (replacing this user's earlier one); '' removes it. */
  react(chatId: string, seq: number, emoji: string, options: SendOptions = {}): Promise<SendResult> {
    if (!validSeq(seq)) return badSeq();
    if (typeof emoji !== 'string' || [...emoji].length > 16) {
      return Promise.reject(
        new ParleyError('INVALID_ARGUMENT', 'a reaction is one emoji (at most 16 characters)'),
      );
    }
    const meta: Meta = { type: MessageType.REACTION, refSeq: u64(seq), reaction: emoji };
    return this.sendWithMeta(chatId, undefined, options.clientMessageId, meta);
  }

  /**
   * Sends content to 1..5 chats at once as a forward. `forwardCount` is the forwarded
   * message's own count plus one (1 for forwarding an original). Every target is checked
   * before anything is sent; results come in the order of the targets. Not kept in the
   * outbox: fails with UNAVAILABLE when not connected.
   */
  async forward(targets: readonly ForwardTarget[], forwardCount: number): Promise<SendResult[]> {
    if (targets.length === 0 || targets.length > MAX_FORWARD_TARGETS) {
      throw new ParleyError('INVALID_ARGUMENT', `forward to 1..${MAX_FORWARD_TARGETS} chats`);
    }
    if (!Number.isInteger(forwardCount) || forwardCount < 1 || forwardCount > 0xffffffff) {
      throw new ParleyError('INVALID_ARGUMENT', 'forwardCount must be at least 1');
    }
    const sends = targets.map((t) =>
      this.buildSend(t.chatId, t.payload, t.clientMessageId, { forwardCount }, t.mediaIds),
    );
    const result = await this.request({ case: 'forward', value: { sends } }, 'forwardResult');
    return result.results.map(toSendResult);
  }

  private sendWithMeta(
    chatId: string,
    content: SendContent | undefined,
    clientMessageId: string | undefined,
    meta: Meta,
    pushPreviews?: SendOptions['pushPreviews'],
    mediaIds?: SendOptions['mediaIds'],
  ): Promise<SendResult> {
    try {
      const request = this.buildSend(chatId, content, clientMessageId, meta, mediaIds);
      if (pushPreviews && pushPreviews.length > 0) {
        if (
          pushPreviews.some(
            (p) => p.payload.byteLength === 0 || p.payload.byteLength > MAX_PUSH_PREVIEW_BYTES,
          )
        )
          throw new ParleyError(
            'PAYLOAD_TOO_LARGE',
            `each push preview must be 1..${MAX_PUSH_PREVIEW_BYTES} bytes`,
          );
        request.pushPreviews = pushPreviews.map(({ deviceId, payload }) => ({ deviceId, payload }));
      }
      return this.enqueueSend(request);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A checked send body; throws INVALID_ARGUMENT / PAYLOAD_TOO_LARGE. No content: deletes, reactions. */
  private buildSend(
    chatId: string,
    content: SendContent | undefined,
    clientMessageId: string | undefined,
    meta: Meta,
    mediaIds?: readonly string[],
  ): SendInit {
    const id = clientMessageId ?? newClientMessageId();
    if (!/^[\x20-\x7e]{1,64}$/.test(id)) {
      throw new ParleyError('INVALID_ARGUMENT', 'clientMessageId must be 1..64 printable ASCII');
    }
    const request: SendInit = { clientMessageId: id, chatId };
    if (Object.keys(meta).length > 0) request.meta = meta;
    if (mediaIds && mediaIds.length > 0) {
      checkMediaIds(mediaIds);
      request.mediaIds = [...mediaIds];
    }
    if (content === undefined) return request;
    const max = this.welcome?.maxPayloadBytes ?? 0;
    const payloads = content instanceof Uint8Array ? [content] : content.map((d) => d.payload);
    if (payloads.length === 0 || payloads.some((p) => p.byteLength === 0)) {
      throw new ParleyError('INVALID_ARGUMENT', 'a payload must not be empty');
    }
    if (max > 0 && payloads.some((p) => p.byteLength > max)) {
      throw new ParleyError('PAYLOAD_TOO_LARGE', `payload exceeds the server limit of ${max} bytes`);
    }
    if (content instanceof Uint8Array) request.payload = content;
    else request.devicePayloads = content.map(({ deviceId, payload }) => ({ deviceId, payload }));
    return request;
  }

  /**
   * The user read everything in the chat up to `seq` (on any device): moves the read
   * position forward (never back) and sends read receipts. Resolves with the position now
   * in force and the chat's unread count.
   */
  async markRead(chatId: string, seq: number): Promise<MarkReadInfo> {
    if (!validSeq(seq)) throw new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer');
    const result = await this.request(
      { case: 'markRead', value: { chatId, seq: u64(seq) } },
      'markReadResult',
    );
    return { readSeq: num(result.readSeq), unreadCount: result.unreadCount };
  }

  /** When each other member had message `seq` (which this user sent) delivered and read. */
  async getReceipts(chatId: string, seq: number): Promise<MessageReceipts> {
    if (!validSeq(seq)) throw new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer');
    const value = { chatId, seq: u64(seq) };
    return toReceipts(await this.request({ case: 'getReceipts', value }, 'receiptsResult'));
  }

  /**
   * Turns read receipts on or off. Off: this user's reads are not reported, and the user
   * sees no one's reads (delivery receipts stay). Resolves with the setting now in force.
   */
  async setReadReceipts(on: boolean): Promise<boolean> {
    const value = { readReceipts: on === true };
    return (await this.request({ case: 'setPrivacy', value }, 'privacyResult')).readReceipts;
  }

  /** Whether read receipts are on for this user. */
  async readReceipts(): Promise<boolean> {
    return (await this.request({ case: 'setPrivacy', value: {} }, 'privacyResult')).readReceipts;
  }

  /** Makes a group member an admin or an admin a member (admins and the creator only). */
  async setRole(chatId: string, userId: string, role: GroupRole): Promise<ChatInfo> {
    if (role !== 'admin' && role !== 'member') {
      throw new ParleyError('INVALID_ARGUMENT', "role must be 'admin' or 'member'");
    }
    const value = { chatId, userId, role: role === 'admin' ? Role.ADMIN : Role.MEMBER };
    return chatOf(await this.request({ case: 'setRole', value }, 'chatResult'));
  }

  /**
   * Pins message `seq` for 24 hours, 7 days or 30 days (pinning it again sets the new time).
   * At most 3 pins in force per chat (TOO_MANY_PINS); in groups with onlyAdminsEditInfo,
   * admins only. Resolves with the chat and its `pins`.
   */
  async pin(chatId: string, seq: number, duration: PinDuration): Promise<ChatInfo> {
    if (!validSeq(seq)) return badSeq();
    const wire = pinDurationToWire(duration);
    if (wire === undefined)
      throw new ParleyError('INVALID_ARGUMENT', "duration must be '24h', '7d' or '30d'");
    return chatOf(
      await this.request({ case: 'pin', value: { chatId, seq: u64(seq), duration: wire } }, 'chatResult'),
    );
  }

  /** Unpins message `seq` (NOT_FOUND when it is not pinned). Resolves with the chat. */
  async unpin(chatId: string, seq: number): Promise<ChatInfo> {
    if (!validSeq(seq)) return badSeq();
    return chatOf(await this.request({ case: 'pin', value: { chatId, seq: u64(seq) } }, 'chatResult'));
  }

  /**
   * Sets the chat's disappearing timer: messages sent from now on carry `expiresAt` and the
   * client emits `expired` for them then. 0 turns it off. Any member, or admins only in
   * groups with onlyAdminsEditInfo. Resolves with the chat.
   */
  async setDisappearing(chatId: string, seconds: DisappearingSeconds): Promise<ChatInfo> {
    if (!DISAPPEARING_TIMERS.includes(seconds)) {
      throw new ParleyError('INVALID_ARGUMENT', `seconds must be one of ${DISAPPEARING_TIMERS.join(', ')}`);
    }
    const value = { chatId, disappearingSeconds: seconds };
    return chatOf(await this.request({ case: 'updateChat', value }, 'chatResult'));
  }

  /** Creates the group's invite code, replacing any earlier one (admins only). */
  async createInvite(chatId: string): Promise<InviteInfo> {
    const result = await this.request({ case: 'createInvite', value: { chatId } }, 'inviteResult');
    return { chatId: result.chatId, code: result.code };
  }

  /** Revokes the group's invite code (admins only). */
  revokeInvite(chatId: string): Promise<void> {
    return this.requestDone({ case: 'revokeInvite', value: { chatId } });
  }

  /** Joins the group an invite code belongs to (or just returns it to a member). */
  async joinByInvite(code: string): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'joinByInvite', value: { code } }, 'chatResult'));
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

  /** Name, description (any member unless onlyAdminsEditInfo) and group settings (admins). */
  async updateChat(chatId: string, changes: ChatChanges): Promise<ChatInfo> {
    return chatOf(await this.request({ case: 'updateChat', value: { chatId, ...changes } }, 'chatResult'));
  }

  leaveChat(chatId: string): Promise<void> {
    return this.requestDone({ case: 'leaveChat', value: { chatId } });
  }

  /** The user's chats, most recent activity first (the server's order), with unread counts. */
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
    for (const m of messages) if ('payload' in m) this.expiry.track(m);
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
  /** Uploads this device's public keys (see the key directory in docs/protocol.md). */
  async uploadKeys(keys: KeyUploadInit): Promise<number> {
    const r = await this.request({ case: 'uploadKeys', value: keys }, 'keysResult');
    return r.oneTimeCount;
  }

  /**
   * Asks the device that sent message `seq` of the chat to encrypt it again for this device
   * (after a failed decrypt). Resolves once the server relayed the request; the answer, if the
   * sender is connected, comes as a `resent` event.
   */
  async retry(chatId: string, seq: number): Promise<void> {
    await this.request({ case: 'retry', value: { chatId, seq: BigInt(seq) } }, 'retryResult');
  }

  /** Hands the server a new ciphertext of message `seq` (sent by this device) for `deviceId` only. */
  async resend(chatId: string, seq: number, deviceId: string, payload: Uint8Array): Promise<void> {
    await this.request(
      { case: 'resend', value: { chatId, seq: BigInt(seq), deviceId, payload } },
      'retryResult',
    );
  }

  /**
   * Calls the other member of direct chat `chatId` (protocol.md §7.13). `payloads` is the
   * encrypted offer for each of the callee's current devices; `Calls` makes them.
   */
  async callOffer(
    callId: string,
    chatId: string,
    video: boolean,
    payloads: readonly { deviceId: string; payload: Uint8Array }[],
  ): Promise<CallResultInfo> {
    const value = { callId, chatId, video, payloads: [...payloads] };
    return toCallResult(await this.request({ case: 'callOffer', value }, 'callResult'));
  }

  /** Answers a call that rang on this device, with the encrypted answer for the caller's device. */
  async callAnswer(callId: string, payload: Uint8Array): Promise<CallResultInfo> {
    return toCallResult(await this.request({ case: 'callAnswer', value: { callId, payload } }, 'callResult'));
  }

  /** Relays an encrypted ICE candidate (or renegotiation) to the other side's device. */
  async callSignal(callId: string, deviceId: string, payload: Uint8Array): Promise<void> {
    await this.request({ case: 'callSignal', value: { callId, deviceId, payload } }, 'ackResult');
  }

  /** Ends a call: hangs up, declines or says this device is busy. */
  async callEnd(callId: string, reason: 'hangup' | 'declined' | 'busy'): Promise<CallResultInfo> {
    const wire = { hangup: CallEndReason.HANGUP, declined: CallEndReason.DECLINED, busy: CallEndReason.BUSY }[
      reason
    ];
    return toCallResult(
      await this.request({ case: 'callEnd', value: { callId, reason: wire } }, 'callResult'),
    );
  }

  /** Time-limited TURN credentials (coturn REST-API scheme) with the node's STUN/TURN URLs. */
  async turnCredentials(): Promise<IceServerInfo & { ttlSeconds: number }> {
    const r = await this.request({ case: 'getTurnCredentials', value: {} }, 'turnCredentials');
    return { urls: [...r.urls], username: r.username, credential: r.password, ttlSeconds: r.ttlSeconds };
  }

  /**
   * One prekey bundle per device of `userId` (or only of `deviceIds`); each takes one of that
   * device's one-time prekeys.
   */
  async preKeyBundles(userId: string, deviceIds: readonly string[] = []): Promise<PreKeyBundleInfo[]> {
    const r = await this.request(
      { case: 'getPreKeyBundles', value: { userId, deviceIds: [...deviceIds] } },
      'preKeyBundles',
    );
    return r.bundles.map((b) => ({
      userId: b.userId,
      deviceId: b.deviceId,
      registrationId: b.registrationId,
      identityKey: b.identityKey,
      signedPreKey: signedKeyOf(b.signedPreKey),
      lastResortKey: signedKeyOf(b.lastResortKey),
      ...(b.oneTimePreKey && {
        oneTimePreKey: { id: b.oneTimePreKey.id, publicKey: b.oneTimePreKey.publicKey },
      }),
    }));
  }

  /**
   * Stores version `version` of this user's profile (ciphertext made by SecureMessaging);
   * PROFILE_VERSION_STALE when the server holds that version or a newer one.
   */
  async setProfile(version: number, ciphertext: Uint8Array): Promise<SealedProfile> {
    const r = await this.request(
      { case: 'setProfile', value: { version: BigInt(version), ciphertext } },
      'profileResult',
    );
    if (!r.profile) throw new ParleyError('INTERNAL', 'profile result without a profile');
    return toSealedProfile(r.profile);
  }

  /**
   * The stored profiles of these users (at most 256) that this user may read: its own and
   * those of users sharing a chat with it; anyone else is left out.
   */
  async getProfiles(userIds: readonly string[]): Promise<SealedProfile[]> {
    const r = await this.request({ case: 'getProfiles', value: { userIds: [...userIds] } }, 'profiles');
    return r.profiles.map(toSealedProfile);
  }

  /** Profile versions stored at or after `since` (ms, server clock), one page (see protocol.md). */
  async profileChanges(since: number, afterUserId = ''): Promise<ProfileChangesPage> {
    const r = await this.request(
      { case: 'profileChanges', value: { since: BigInt(since), afterUserId } },
      'profileChangesResult',
    );
    return {
      profiles: r.profiles.map((p) => ({
        userId: p.userId,
        version: num(p.version),
        updatedAt: num(p.updatedAt),
      })),
      more: r.more,
      serverTime: num(r.serverTime),
    };
  }

  /** Identity keys of every device of these users (consumes nothing). */
  async identityKeys(userIds: readonly string[]): Promise<DeviceIdentityInfo[]> {
    const r = await this.request(
      { case: 'getIdentityKeys', value: { userIds: [...userIds] } },
      'identityKeys',
    );
    return r.keys.map((k) => ({
      userId: k.userId,
      deviceId: k.deviceId,
      registrationId: k.registrationId,
      identityKey: k.identityKey,
    }));
  }

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

  // -- push registration -------------------------------------------------------------------

  /**
   * Registers where this device's pushes go while it is offline, replacing its earlier
   * registration (a token another device had moves here). Validated by the server
   * (INVALID_ARGUMENT naming the field); RATE_LIMITED past the hourly limit.
   */
  async registerPush(target: PushTargetInput): Promise<PushRegistrationInfo> {
    return toRegistrationInfo(await this.request(toRegisterPush(target), 'pushRegistration'));
  }

  /** Removes this device's push registration (idempotent): it gets no more pushes. */
  async unregisterPush(): Promise<PushRegistrationInfo> {
    return toRegistrationInfo(await this.request({ case: 'unregisterPush', value: {} }, 'pushRegistration'));
  }

  /** This device's push registration as the server holds it. */
  async pushRegistration(): Promise<PushRegistrationInfo> {
    return toRegistrationInfo(await this.request({ case: 'getPush', value: {} }, 'pushRegistration'));
  }

  // -- blocking and reports ---------------------------------------------------------------

  /**
   * Blocks a user: their messages in the direct chat with this user are never delivered here
   * (they see one tick), they cannot add this user to groups, and they see no presence,
   * typing or receipts from this user. Resolves with the whole block list.
   */
  async block(userId: string): Promise<BlockedUserInfo[]> {
    const r = await this.request({ case: 'block', value: { userId } }, 'blockList');
    const list = toBlockList(r.users);
    this.setBlockList(list, true);
    return list;
  }

  /** Unblocks a user (messages they sent while blocked stay undelivered). */
  async unblock(userId: string): Promise<BlockedUserInfo[]> {
    const r = await this.request({ case: 'unblock', value: { userId } }, 'blockList');
    const list = toBlockList(r.users);
    this.setBlockList(list, true);
    return list;
  }

  /** The block list as the server holds it now. */
  async blockedUsers(): Promise<BlockedUserInfo[]> {
    const r = await this.request({ case: 'listBlocked', value: {} }, 'blockList');
    const list = toBlockList(r.users);
    this.setBlockList(list);
    return list;
  }

  /**
   * Reports a user or a chat, optionally with up to 5 messages this device decrypted (their
   * plaintext is disclosed to the operators) and optionally blocking the user.
   */
  async report(input: ReportInput): Promise<ReportOutcome> {
    const r = await this.request({ case: 'report', value: reportToWire(input) }, 'reportResult');
    if (r.blocked) this.setBlockList(toBlockList(r.users), true);
    return { reportId: r.reportId, blocked: r.blocked };
  }

  // -- mutes and do-not-disturb ------------------------------------------------------------

  /**
   * Mutes a chat on all of this user's devices until `until` (unix ms) or 'forever': its
   * messages still arrive and count as unread, but push no alert; in a group, a message that
   * mentions this user still does. Resolves with the stored end (0 when `until` has passed).
   */
  async mute(chatId: string, until: MuteUntil): Promise<number> {
    const r = await this.request(
      { case: 'muteChat', value: { chatId, until: muteUntilToWire(until) } },
      'muteChatResult',
    );
    const mutedUntil = num(r.mutedUntil);
    this.chatMuteChanged({ chatId: r.chatId, mutedUntil }, true);
    return mutedUntil;
  }

  /** Unmutes a chat on all of this user's devices. */
  async unmute(chatId: string): Promise<void> {
    await this.mute(chatId, 0);
  }

  /**
   * Do-not-disturb for this user: no alert from any chat, mentions included, until `until`
   * (unix ms) or 'forever'; 0 turns it off. Resolves with the stored end.
   */
  async setDoNotDisturb(until: MuteUntil): Promise<number> {
    const r = await this.request(
      { case: 'setDoNotDisturb', value: { until: muteUntilToWire(until) } },
      'doNotDisturbResult',
    );
    this.setDoNotDisturbUntil(num(r.until), true);
    return this.doNotDisturbUntil;
  }

  /** This user's do-not-disturb as the server holds it now (0 = off). */
  async doNotDisturb(): Promise<number> {
    const r = await this.request({ case: 'setDoNotDisturb', value: {} }, 'doNotDisturbResult');
    this.setDoNotDisturbUntil(num(r.until));
    return this.doNotDisturbUntil;
  }

  protected override afterWelcome(): void {
    // Do-not-disturb may have changed while away (or ended): ask on every connect, when the
    // app listens for it (others read it with doNotDisturb(); connects cost nothing more).
    if (this.listenerCount('doNotDisturb') > 0)
      this.request({ case: 'setDoNotDisturb', value: {} }, 'doNotDisturbResult').then(
        (r) => this.setDoNotDisturbUntil(num(r.until)),
        () => {},
      );
    // The block list may have changed while away: fetch it on every connect. A failure is
    // not worth an error event: the next connect fetches it again, blockedUsers() on demand.
    this.request({ case: 'listBlocked', value: {} }, 'blockList').then(
      (r) => this.setBlockList(toBlockList(r.users)),
      () => {},
    );
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

function validSeq(seq: number): boolean {
  return Number.isSafeInteger(seq) && seq >= 1;
}

function badSeq(): Promise<never> {
  return Promise.reject(new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer'));
}
