/**
 * Maps each request frame to its handler and result body. Validates every field at this
 * edge; handlers receive domain types. Unknown bodies get UNKNOWN_TYPE.
 */
import {
  type Frame,
  type FrameInit,
  ParleyError,
  PinDuration,
  ChatKind as WireChatKind,
  ReportReason as WireReportReason,
  Role as WireRole,
  LastSeenVisibility as WireVisibility,
} from '@parley/protocol';
import type { BlockService } from '../blocks/service.js';
import type { CallService } from '../calls/service.js';
import { issueTurnCredentials } from '../calls/turn.js';
import type { Directory } from '../chat/directory.js';
import type { ChatService } from '../chat/service.js';
import type { Config } from '../config/schema.js';
import type { Hub } from '../delivery/hub.js';
import type { DeliverySession } from '../delivery/session.js';
import type { DiscoveryService } from '../discovery/service.js';
import type { KeyService } from '../keys/service.js';
import type { Limiters } from '../limits/limiters.js';
import {
  REPORT_DETAIL_MAX,
  REPORT_MAX_MESSAGES,
  REPORT_TEXT_MAX_BYTES,
  type ReportService,
} from '../moderation/reports.js';
import type { MuteService } from '../mutes/service.js';
import type { Clock } from '../ports/clock.js';
import type { ReportedMessage, ReportReason, Store } from '../ports/store.js';
import type { ChatId, Device, DeviceId, LastSeenVisibility, StoredProfile, UserId } from '../ports/types.js';
import {
  MAX_SUBSCRIPTIONS,
  type PresenceConnection,
  type PresenceService,
  visibilityToWire,
} from '../presence/service.js';
import { relayTyping } from '../presence/typing.js';
import type { ProfileService } from '../profiles/service.js';
import { PROFILES_PER_REQUEST } from '../profiles/service.js';
import type { PushRegistrations } from '../push/registrations.js';
import type { ReceiptService } from '../receipts/service.js';
import type { RetryService } from '../retry/service.js';
import { parseSend } from './parse-send.js';
import { toWireChat, toWireMessage } from './wire.js';

const HOUR = 3_600_000;
const PIN_DURATIONS: Record<number, number> = {
  [PinDuration.PIN_DURATION_UNSPECIFIED]: 0,
  [PinDuration.PIN_DURATION_24_HOURS]: 24 * HOUR,
  [PinDuration.PIN_DURATION_7_DAYS]: 7 * 24 * HOUR,
  [PinDuration.PIN_DURATION_30_DAYS]: 30 * 24 * HOUR,
};

function visibilityFromWire(v: WireVisibility): LastSeenVisibility | undefined {
  if (v === WireVisibility.EVERYONE) return 'everyone';
  if (v === WireVisibility.CONTACTS) return 'contacts';
  if (v === WireVisibility.NOBODY) return 'nobody';
  return undefined;
}

export interface DispatchDeps {
  presence: PresenceService;
  receipts: ReceiptService;
  hub: Hub;
  directory: Directory;
  chats: ChatService;
  store: Store;
  clock: Clock;
  config: Config;
  limiters: Limiters;
  keys: KeyService;
  retry: RetryService;
  discovery: DiscoveryService;
  profiles: ProfileService;
  blocks: BlockService;
  reports: ReportService;
  push: PushRegistrations;
  mutes: MuteService;
  calls: CallService;
}

export interface RequestContext {
  device: Device;
  session: DeliverySession;
  conn: PresenceConnection;
}

type Body = FrameInit['body'];

const MAX_ID = 64;

function id<T extends string>(value: string, field: string): T {
  if (value.length === 0 || value.length > MAX_ID) {
    throw new ParleyError('INVALID_ARGUMENT', `${field} must be 1..${MAX_ID} characters`);
  }
  return value as T;
}

function ids<T extends string>(values: string[], field: string, max: number): T[] {
  if (values.length > max) throw new ParleyError('INVALID_ARGUMENT', `at most ${max} ${field}`);
  return values.map((v) => id<T>(v, field));
}

const REPORT_REASONS: Record<number, ReportReason> = {
  [WireReportReason.SPAM]: 'spam',
  [WireReportReason.HARASSMENT]: 'harassment',
  [WireReportReason.SCAM]: 'scam',
  [WireReportReason.INAPPROPRIATE]: 'inappropriate',
  [WireReportReason.IMPERSONATION]: 'impersonation',
  [WireReportReason.OTHER]: 'other',
};

const utf8 = new TextEncoder();

function reportedMessages(
  list: ReadonlyArray<{ seq: bigint; senderUserId: string; serverTime: bigint; text: string }>,
): ReportedMessage[] {
  if (list.length > REPORT_MAX_MESSAGES)
    throw new ParleyError('INVALID_ARGUMENT', `at most ${REPORT_MAX_MESSAGES} messages per report`);
  const seen = new Set<number>();
  return list.map((m) => {
    const seq = seqOf(m.seq, 'messages.seq', 1n);
    if (seen.has(seq)) throw new ParleyError('INVALID_ARGUMENT', `message ${seq} is attached twice`);
    seen.add(seq);
    // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
    if (m.text.length * 3 > REPORT_TEXT_MAX_BYTES && utf8.encode(m.text).length > REPORT_TEXT_MAX_BYTES)
      throw new ParleyError('INVALID_ARGUMENT', `messages.text is at most ${REPORT_TEXT_MAX_BYTES} bytes`);
    return {
      seq,
      senderUserId: id<UserId>(m.senderUserId, 'messages.senderUserId'),
      serverTime: seqOf(m.serverTime, 'messages.serverTime'),
      text: m.text,
    };
  });
}

function seqOf(v: bigint, field: string, min = 0n): number {
  if (v < min || v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ParleyError('INVALID_ARGUMENT', `${field} out of range`);
  return Number(v);
}

function toWireProfile(p: StoredProfile) {
  return {
    userId: p.userId,
    version: BigInt(p.version),
    ciphertext: p.ciphertext,
    updatedAt: BigInt(p.updatedAt),
  };
}

type BodyOf<C extends Frame['body']['case']> = Extract<Frame['body'], { case: C }>['value'];

/**
 * Answers one request frame. The requests of every message's path (`send`, `ack`) and chat
 * creation have functions of their own: an async function's suspended state is as large as
 * all of its body's variables, so each call of the one that handles every other request
 * allocates a couple of KiB, even when it never waits. Never throws: a failure is a
 * rejected promise.
 */
export function createDispatcher(d: DispatchDeps) {
  const { chats, config } = d;

  async function send(r: BodyOf<'send'>, device: Device): Promise<Body> {
    const input = parseSend(r, config);
    const res = await chats.send(device, input);
    return {
      case: 'sendResult',
      value: {
        clientMessageId: r.clientMessageId,
        chatId: input.chatId,
        seq: BigInt(res.seq),
        serverTime: BigInt(res.serverTime),
      },
    };
  }

  function ack(r: BodyOf<'ack'>, ctx: RequestContext): Body {
    const cursors = r.cursors;
    if (cursors.length === 0 || cursors.length > 10_000) {
      throw new ParleyError('INVALID_ARGUMENT', 'ack needs 1..10000 cursors');
    }
    // Validate all before applying any, so a bad cursor clears nothing.
    const parsed = cursors.map((c) => ({
      chatId: id<ChatId>(c.chatId, 'chatId'),
      seq: seqOf(c.seq, 'seq', 1n),
    }));
    if (parsed.length > 1 && new Set(parsed.map((c) => c.chatId)).size !== parsed.length) {
      throw new ParleyError('INVALID_ARGUMENT', 'at most one cursor per chat in an ack');
    }
    for (const c of parsed) ctx.session.ack(c.chatId, c.seq);
    return { case: 'ackResult', value: { chats: parsed.length } };
  }

  async function createChat(r: BodyOf<'createChat'>, device: Device): Promise<Body> {
    const kind =
      r.kind === WireChatKind.DIRECT ? 'direct' : r.kind === WireChatKind.GROUP ? 'group' : undefined;
    if (!kind) throw new ParleyError('INVALID_ARGUMENT', 'kind must be CHAT_KIND_DIRECT or CHAT_KIND_GROUP');
    const chat = await chats.createChat(device, {
      kind,
      memberUserIds: ids<UserId>(r.memberUserIds, 'memberUserIds', config.maxGroupMembers),
      name: r.name,
      description: r.description,
    });
    return { case: 'chatResult', value: { chat: toWireChat(chat) } };
  }

  const other = createOtherDispatcher(d);

  function dispatch(frame: Frame, ctx: RequestContext): Promise<Body | undefined> {
    const body = frame.body;
    try {
      if (body.case === 'send') return send(body.value, ctx.device);
      if (body.case === 'ack') return Promise.resolve(ack(body.value, ctx));
      if (body.case === 'createChat') return createChat(body.value, ctx.device);
    } catch (err) {
      return Promise.reject(err);
    }
    return other(frame, ctx);
  }
  /** An ack answered at once (it throws a ParleyError for a bad one): no promise, no turn. */
  return Object.assign(dispatch, { ack });
}

/** Every request but those `createDispatcher` answers itself. */
function createOtherDispatcher(d: DispatchDeps) {
  const { chats, config } = d;

  return async function dispatchOther(frame: Frame, ctx: RequestContext): Promise<Body | undefined> {
    const { device } = ctx;
    const body = frame.body;
    switch (body.case) {
      case 'addMembers': {
        const r = body.value;
        const userIds = ids<UserId>(r.userIds, 'userIds', config.maxGroupMembers);
        if (userIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'userIds is empty');
        const chat = await chats.addMembers(device, id<ChatId>(r.chatId, 'chatId'), userIds);
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'removeMember': {
        const r = body.value;
        const chat = await chats.removeMember(
          device,
          id<ChatId>(r.chatId, 'chatId'),
          id<UserId>(r.userId, 'userId'),
        );
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'updateChat': {
        const r = body.value;
        const chat = await chats.updateChat(device, id<ChatId>(r.chatId, 'chatId'), {
          ...(r.name !== undefined && { name: r.name }),
          ...(r.description !== undefined && { description: r.description }),
          ...(r.onlyAdminsSend !== undefined && { onlyAdminsSend: r.onlyAdminsSend }),
          ...(r.onlyAdminsEditInfo !== undefined && { onlyAdminsEditInfo: r.onlyAdminsEditInfo }),
          ...(r.disappearingSeconds !== undefined && { disappearingSeconds: r.disappearingSeconds }),
          ...(r.iconMediaId !== undefined && { iconMediaId: r.iconMediaId }),
        });
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'setRole': {
        const r = body.value;
        const role = r.role === WireRole.ADMIN ? 'admin' : r.role === WireRole.MEMBER ? 'member' : undefined;
        if (!role) throw new ParleyError('INVALID_ARGUMENT', 'role must be ROLE_ADMIN or ROLE_MEMBER');
        const chat = await chats.setRole(
          device,
          id<ChatId>(r.chatId, 'chatId'),
          id<UserId>(r.userId, 'userId'),
          role,
        );
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'createInvite': {
        const chatId = id<ChatId>(body.value.chatId, 'chatId');
        const code = await chats.createInvite(device, chatId);
        return { case: 'inviteResult', value: { chatId, code } };
      }
      case 'revokeInvite': {
        await chats.revokeInvite(device, id<ChatId>(body.value.chatId, 'chatId'));
        return { case: 'ackResult', value: { chats: 1 } };
      }
      case 'joinByInvite': {
        const chat = await chats.joinByInvite(device, id<string>(body.value.code, 'code'));
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'leaveChat': {
        const chat = await chats.leaveChat(device, id<ChatId>(body.value.chatId, 'chatId'));
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'getChat': {
        const chat = await chats.getChatSummary(device, id<ChatId>(body.value.chatId, 'chatId'));
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'listChats': {
        const list = await chats.listChats(device);
        return { case: 'chatList', value: { chats: list.map(toWireChat) } };
      }
      case 'history': {
        const r = body.value;
        if (r.beforeSeq > 0n && r.afterSeq > 0n) {
          throw new ParleyError('INVALID_ARGUMENT', 'set at most one of beforeSeq and afterSeq');
        }
        const limit = r.limit === 0 ? 50 : r.limit;
        if (limit > 100) throw new ParleyError('INVALID_ARGUMENT', 'limit is at most 100');
        const page = await chats.history(device, id<ChatId>(r.chatId, 'chatId'), {
          ...(r.beforeSeq > 0n && { beforeSeq: seqOf(r.beforeSeq, 'beforeSeq') }),
          ...(r.afterSeq > 0n && { afterSeq: seqOf(r.afterSeq, 'afterSeq') }),
          limit,
        });
        return {
          case: 'historyResult',
          value: { messages: page.messages.map(toWireMessage), more: page.more },
        };
      }
      case 'listDevices': {
        const userIds = ids<UserId>(body.value.userIds, 'userIds', 1024);
        if (userIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'userIds is empty');
        const found = await d.store.devicesOfUsers(userIds);
        return {
          case: 'deviceList',
          value: { users: [...found].map(([userId, deviceIds]) => ({ userId, deviceIds })) },
        };
      }
      case 'uploadKeys': {
        const r = body.value;
        const result = await d.keys.upload(device, {
          identityKey: r.identityKey.length ? r.identityKey : undefined,
          registrationId: r.registrationId || undefined,
          signedPreKey: r.signedPreKey,
          lastResortKey: r.lastResortKey,
          oneTimePreKeys: r.oneTimePreKeys.map((k) => ({ id: k.id, publicKey: k.publicKey })),
          replaceOneTime: r.replaceOneTime,
        });
        return { case: 'keysResult', value: result };
      }
      case 'getPreKeyBundles': {
        const only = ids<DeviceId>(body.value.deviceIds, 'deviceIds', 64);
        const bundles = await d.keys.bundles(
          device,
          id<UserId>(body.value.userId, 'userId'),
          only.length ? only : undefined,
        );
        return {
          case: 'preKeyBundles',
          value: {
            bundles: bundles.map((b) => ({
              userId: b.userId,
              deviceId: b.deviceId,
              registrationId: b.registrationId,
              identityKey: b.identityKey,
              signedPreKey: b.signedPreKey,
              lastResortKey: b.lastResortKey,
              oneTimePreKey: b.oneTimePreKey,
            })),
          },
        };
      }
      case 'retry': {
        const r = body.value;
        await d.retry.request(device, id<ChatId>(r.chatId, 'chatId'), seqOf(r.seq, 'seq', 1n));
        return { case: 'retryResult', value: {} };
      }
      case 'resend': {
        const r = body.value;
        await d.retry.resend(
          device,
          id<ChatId>(r.chatId, 'chatId'),
          seqOf(r.seq, 'seq', 1n),
          id<DeviceId>(r.deviceId, 'deviceId'),
          r.payload,
        );
        return { case: 'retryResult', value: {} };
      }
      case 'getIdentityKeys': {
        const userIds = ids<UserId>(body.value.userIds, 'userIds', 1024);
        if (userIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'userIds is empty');
        return { case: 'identityKeys', value: { keys: await d.keys.identities(userIds) } };
      }
      case 'discover': {
        const matches = await d.discovery.lookup(device, body.value.phoneHashes);
        return { case: 'discoverResult', value: { matches } };
      }
      case 'markRead': {
        const r = await chats.markRead(
          device,
          id<ChatId>(body.value.chatId, 'chatId'),
          seqOf(body.value.seq, 'seq'),
        );
        await d.receipts.read(r.change);
        return { case: 'markReadResult', value: { readSeq: BigInt(r.readSeq), unreadCount: r.unreadCount } };
      }
      case 'forward': {
        const sends = body.value.sends;
        if (sends.length === 0 || sends.length > 5) {
          throw new ParleyError('INVALID_ARGUMENT', 'forward to 1..5 chats per request');
        }
        const inputs = sends.map((x) => parseSend(x, config));
        if (inputs.some((x) => x.meta?.type !== 'message' || x.meta.forwardCount < 1)) {
          throw new ParleyError(
            'INVALID_ARGUMENT',
            'each forwarded message needs meta.forwardCount of at least 1',
          );
        }
        // Every target is checked before anything is sent.
        for (const x of inputs) await chats.checkCanSend(device, x.chatId);
        const results = [];
        for (const x of inputs) {
          const res = await chats.send(device, x);
          results.push({
            clientMessageId: x.clientMessageId,
            chatId: x.chatId,
            seq: BigInt(res.seq),
            serverTime: BigInt(res.serverTime),
          });
        }
        return { case: 'forwardResult', value: { results } };
      }
      case 'pin': {
        const r = body.value;
        const durationMs = PIN_DURATIONS[r.duration];
        if (durationMs === undefined) throw new ParleyError('INVALID_ARGUMENT', 'unknown pin duration');
        const chat = await chats.pin(
          device,
          id<ChatId>(r.chatId, 'chatId'),
          seqOf(r.seq, 'seq', 1n),
          durationMs,
        );
        return { case: 'chatResult', value: { chat: toWireChat(chat) } };
      }
      case 'getReceipts': {
        const r = await d.receipts.details(
          device,
          id<ChatId>(body.value.chatId, 'chatId'),
          seqOf(body.value.seq, 'seq', 1n),
        );
        return {
          case: 'receiptsResult',
          value: {
            members: r.members.map((m) => ({
              userId: m.userId,
              deliveredAt: BigInt(m.deliveredAt),
              readAt: BigInt(m.readAt),
            })),
            deliveredToAll: r.deliveredToAll,
            readByAll: r.readByAll,
          },
        };
      }
      case 'subscribePresence': {
        const userIds = ids<UserId>(body.value.userIds, 'userIds', MAX_SUBSCRIPTIONS);
        const users = await d.presence.subscribe(ctx.conn, userIds);
        return { case: 'presenceList', value: { users } };
      }
      case 'setPrivacy': {
        const wanted = visibilityFromWire(body.value.lastSeen);
        if (wanted) await d.presence.setVisibility(device.userId, wanted);
        if (body.value.readReceipts !== undefined)
          await d.receipts.setReadReceipts(device.userId, body.value.readReceipts);
        const now = await d.presence.visibilityOf(device.userId);
        const readReceipts = await d.receipts.readReceiptsOn(device.userId);
        return { case: 'privacyResult', value: { lastSeen: visibilityToWire[now], readReceipts } };
      }
      case 'typing': {
        await d.limiters.take('typing', device.id);
        await relayTyping(d, device, id<ChatId>(body.value.chatId, 'chatId'), body.value.state);
        return { case: 'ackResult', value: { chats: 1 } };
      }
      case 'setProfile': {
        const p = await d.profiles.set(device, body.value.version, body.value.ciphertext);
        return { case: 'profileResult', value: { profile: toWireProfile(p) } };
      }
      case 'getProfiles': {
        const userIds = ids<UserId>(body.value.userIds, 'userIds', PROFILES_PER_REQUEST);
        const found = await d.profiles.get(device, userIds);
        return { case: 'profiles', value: { profiles: found.map(toWireProfile) } };
      }
      case 'profileChanges': {
        const after = body.value.afterUserId === '' ? '' : id<UserId>(body.value.afterUserId, 'afterUserId');
        const page = await d.profiles.changes(device, body.value.since, after);
        return {
          case: 'profileChangesResult',
          value: {
            profiles: page.profiles.map((p) => ({
              userId: p.userId,
              version: BigInt(p.version),
              updatedAt: BigInt(p.updatedAt),
            })),
            more: page.more,
            serverTime: BigInt(page.serverTime),
          },
        };
      }
      case 'block': {
        const target = id<UserId>(body.value.userId, 'userId');
        await d.limiters.take('blockChange', device.userId);
        const users = await d.blocks.block(device.userId, target, device.id);
        return { case: 'blockList', value: { users } };
      }
      case 'unblock': {
        const target = id<UserId>(body.value.userId, 'userId');
        await d.limiters.take('blockChange', device.userId);
        const users = await d.blocks.unblock(device.userId, target, device.id);
        return { case: 'blockList', value: { users } };
      }
      case 'listBlocked':
        return { case: 'blockList', value: { users: await d.blocks.list(device.userId) } };
      case 'report': {
        const r = body.value;
        const reason = REPORT_REASONS[r.reason];
        if (!reason) throw new ParleyError('INVALID_ARGUMENT', 'reason must be one of REPORT_REASON_*');
        if (r.detail.length > REPORT_DETAIL_MAX)
          throw new ParleyError('INVALID_ARGUMENT', `detail is at most ${REPORT_DETAIL_MAX} characters`);
        const res = await d.reports.report(device, {
          userId: r.userId ? id<UserId>(r.userId, 'userId') : undefined,
          chatId: r.chatId ? id<ChatId>(r.chatId, 'chatId') : undefined,
          reason,
          detail: r.detail,
          messages: reportedMessages(r.messages),
          block: r.block,
        });
        return { case: 'reportResult', value: res };
      }
      case 'registerPush':
        return { case: 'pushRegistration', value: await d.push.register(device, body.value.target) };
      case 'unregisterPush':
        return { case: 'pushRegistration', value: await d.push.unregister(device) };
      case 'getPush':
        return { case: 'pushRegistration', value: await d.push.get(device) };
      case 'muteChat': {
        const chatId = id<ChatId>(body.value.chatId, 'chatId');
        await d.limiters.take('muteChange', device.userId);
        const mutedUntil = await d.mutes.muteChat(device, chatId, seqOf(body.value.until, 'until'));
        return { case: 'muteChatResult', value: { chatId, mutedUntil: BigInt(mutedUntil) } };
      }
      case 'setDoNotDisturb': {
        const wanted = body.value.until;
        if (wanted !== undefined) await d.limiters.take('muteChange', device.userId);
        const until = await d.mutes.setDoNotDisturb(
          device,
          wanted === undefined ? undefined : seqOf(wanted, 'until'),
        );
        return { case: 'doNotDisturbResult', value: { until: BigInt(until) } };
      }
      case 'callOffer': {
        const r = body.value;
        if (r.payloads.length > 16) throw new ParleyError('INVALID_ARGUMENT', 'at most 16 payloads');
        const payloads = new Map<DeviceId, Uint8Array>();
        for (const p of r.payloads) {
          const dev = id<DeviceId>(p.deviceId, 'payloads.deviceId');
          if (payloads.has(dev)) throw new ParleyError('INVALID_ARGUMENT', `device ${dev} appears twice`);
          payloads.set(dev, p.payload);
        }
        const res = await d.calls.offer(device, {
          callId: r.callId,
          chatId: id<ChatId>(r.chatId, 'chatId'),
          video: r.video,
          payloads,
        });
        return { case: 'callResult', value: res };
      }
      case 'callAnswer':
        return {
          case: 'callResult',
          value: await d.calls.answer(device, body.value.callId, body.value.payload),
        };
      case 'callSignal': {
        const r = body.value;
        await d.calls.signal(device, r.callId, id<DeviceId>(r.deviceId, 'deviceId'), r.payload);
        return { case: 'ackResult', value: { chats: 0 } };
      }
      case 'callEnd':
        return { case: 'callResult', value: await d.calls.end(device, body.value.callId, body.value.reason) };
      case 'getTurnCredentials':
        return { case: 'turnCredentials', value: await issueTurnCredentials(d, device) };
      case 'ping':
        return { case: 'pong', value: { serverTime: BigInt(d.clock.now()) } };
      default:
        throw new ParleyError(
          'UNKNOWN_TYPE',
          body.case ? `${body.case} is not a request` : 'frame has no known body',
        );
    }
  };
}
