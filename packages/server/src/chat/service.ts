/**
 * Chats and the send path. Membership rules live here; every change to a chat is stored as
 * the chat's next message (a chat update) and fanned out like any message. A send is
 * acknowledged only after its transaction committed (see CommitQueue).
 */
import { ParleyError } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Config } from '../config/schema.js';
import type { Hub } from '../delivery/hub.js';
import type { Limiters } from '../limits/limiters.js';
import { BLOB_ID } from '../ports/blobs.js';
import type { Clock } from '../ports/clock.js';
import type { Ids } from '../ports/ids.js';
import { type ChatCreate, createdMessage, type Store } from '../ports/store.js';
import type {
  ChatId,
  ChatInfo,
  ChatKind,
  ChatSummary,
  Device,
  DeviceId,
  MessageMeta,
  Role,
  StoredMessage,
  UserId,
} from '../ports/types.js';
import { type CommitQueue, GroupCommit } from './commit-queue.js';
import type { ChatMembers, Directory } from './directory.js';
import {
  createdUpdate,
  disappearingChangedUpdate,
  infoChangedUpdate,
  joinedByInviteUpdate,
  memberLeftUpdate,
  memberRemovedUpdate,
  membersAddedUpdate,
  pinnedUpdate,
  roleChangedUpdate,
  settingsChangedUpdate,
  unpinnedUpdate,
} from './updates.js';

export interface ChatDeps {
  store: Store;
  clock: Clock;
  ids: Ids;
  config: Config;
  directory: Directory;
  commits: CommitQueue;
  hub: Hub;
  limiters: Limiters;
  blocks: BlockCheck;
}

export interface SendInput {
  clientMessageId: string;
  chatId: ChatId;
  payload: Uint8Array | undefined;
  devicePayloads: Map<DeviceId, Uint8Array> | undefined;
  meta?: MessageMeta | undefined;
  /** Sealed previews by recipient device, for their pushes (never stored with the message). */
  pushPreviews?: Map<DeviceId, Uint8Array> | undefined;
  /** The attachments the message references (distinct media ids, at most 16). */
  mediaIds?: readonly string[] | undefined;
}

export interface DeviceMismatchDetails {
  missingDeviceIds: DeviceId[];
  extraDeviceIds: DeviceId[];
  current: Array<{ userId: UserId; deviceIds: DeviceId[] }>;
}

const NAME_MAX = 100;
const DESCRIPTION_MAX = 2048;

const canManage = (r: Role | undefined) => r === 'admin' || r === 'creator';

export const MAX_PINS = 3;

/** Allowed disappearing timers: off, 24 hours, 7 days, 90 days. */
export const DISAPPEARING_TIMERS: readonly number[] = [0, 86_400, 604_800, 7_776_000];

/** Chats created per transaction at most (a batch of creations shares one disk sync). */
const CREATE_BATCH = 256;

type Created = { chat: ChatInfo } | { error: unknown };

export class ChatService {
  /** The group commit of chat creation, as sends have theirs. */
  private readonly creates: GroupCommit<ChatCreate, Created>;

  constructor(private readonly d: ChatDeps) {
    this.creates = new GroupCommit((inputs) => this.createBatch(inputs), {
      maxBatch: CREATE_BATCH,
      windowMs: d.config.commitWindowMs,
    });
  }

  /** Resolves when every chat creation asked for so far is stored (shutdown). */
  idle(): Promise<void> {
    return this.creates.idle();
  }

  private async createBatch(inputs: ChatCreate[]): Promise<Created[]> {
    try {
      return (await this.d.store.chatCreateBatch(inputs)).map((chat) => ({ chat }));
    } catch (err) {
      if (inputs.length === 1) return [{ error: err }];
      // The batch failed as a whole: each on its own, so only the input at fault fails.
      const out: Created[] = [];
      for (const input of inputs) {
        try {
          out.push({ chat: await this.d.store.chatCreate(input) });
        } catch (e) {
          out.push({ error: e });
        }
      }
      return out;
    }
  }

  // -- send ---------------------------------------------------------------------------------

  /** Throws what `send` would for membership and group settings; returns the members. */
  async checkCanSend(device: Device, chatId: ChatId): Promise<ChatMembers> {
    const members = await this.d.directory.members(chatId);
    if (!members) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
    if (!members.has(device.userId))
      throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
    if (members.onlyAdminsSend && !canManage(members.role(device.userId))) {
      throw new ParleyError('PERMISSION_DENIED', 'only admins can send messages in this group');
    }
    const other = members.kind === 'direct' ? otherOf(members.users, device.userId) : undefined;
    if (other && (await this.d.blocks.isBlocked(device.userId, other))) {
      throw new ParleyError('USER_BLOCKED', 'you blocked this user; unblock them to send');
    }
    return members;
  }

  async send(device: Device, input: SendInput): Promise<{ seq: number; serverTime: number }> {
    const members = await this.checkCanSend(device, input.chatId);
    if (input.devicePayloads) await this.checkDeviceSet(device, members.users, input.devicePayloads);
    // A message to someone who blocked the sender is stored and acknowledged as usual, and
    // withheld from them for good (one tick on the sender's side, as on WhatsApp).
    const other = members.kind === 'direct' ? otherOf(members.users, device.userId) : undefined;
    const withheld = other !== undefined && (await this.d.blocks.isBlocked(other, device.userId));
    await this.d.limiters.take('send', device.userId);
    const result = await this.d.commits.enqueue({
      chatId: input.chatId,
      senderUserId: device.userId,
      senderDeviceId: device.id,
      clientMessageId: input.clientMessageId,
      serverTime: this.d.clock.now(),
      payload: input.payload,
      devicePayloads: input.devicePayloads,
      meta: input.meta,
      windows: { editMs: this.d.config.editWindowMs, deleteMs: this.d.config.deleteWindowMs },
      ...(withheld && { withheld: true }),
      ...(input.pushPreviews && { pushPreviews: input.pushPreviews }),
      ...(input.mediaIds && { mediaIds: input.mediaIds }),
    });
    if (!result.ok) {
      if (result.code === 'NOT_A_MEMBER' || result.code === 'CHAT_NOT_FOUND') {
        this.d.directory.invalidateChat(input.chatId);
      }
      const fallback = result.code === 'NOT_A_MEMBER' ? 'you are not a member of this chat' : 'no such chat';
      throw new ParleyError(result.code, result.message ?? fallback);
    }
    return { seq: result.seq, serverTime: result.serverTime };
  }

  private async checkDeviceSet(device: Device, users: Iterable<UserId>, payloads: Map<DeviceId, Uint8Array>) {
    const current = await this.d.directory.memberDevices(users);
    const expected = new Set<DeviceId>();
    for (const ids of current.values()) for (const id of ids) if (id !== device.id) expected.add(id);
    const missing = [...expected].filter((id) => !payloads.has(id));
    const extra = [...payloads.keys()].filter((id) => !expected.has(id));
    if (missing.length || extra.length) {
      const details: DeviceMismatchDetails = {
        missingDeviceIds: missing,
        extraDeviceIds: extra,
        // Recipients' devices: every member's, except the device that is sending.
        current: [...current].map(([userId, deviceIds]) => ({
          userId,
          deviceIds: deviceIds.filter((id) => id !== device.id),
        })),
      };
      throw new ParleyError(
        'DEVICE_MISMATCH',
        'the payloads do not match the recipients\u2019 current devices',
        {
          details: details as unknown as Record<string, unknown>,
        },
      );
    }
  }

  // -- chats -------------------------------------------------------------------------------------

  async createChat(
    device: Device,
    input: { kind: ChatKind; memberUserIds: UserId[]; name: string; description: string },
  ): Promise<ChatInfo> {
    if (input.memberUserIds.includes(device.userId)) {
      throw new ParleyError(
        'INVALID_ARGUMENT',
        'memberUserIds lists the other members; you are added as creator',
      );
    }
    const others = [...new Set(input.memberUserIds)];
    checkInfo(input.name, input.description);
    if (input.kind === 'direct') {
      if (others.length !== 1)
        throw new ParleyError('INVALID_ARGUMENT', 'a direct chat has exactly one other member');
      // A pair that already has a direct chat gets it back from the store, as it is.
    } else if (others.length === 0) {
      throw new ParleyError('INVALID_ARGUMENT', 'a group needs at least one other member');
    }
    this.checkGroupSize(others.length + 1);
    const isGroup = input.kind === 'group';
    // The store refuses unknown members inside the commit (USER_NOT_FOUND); a group checks
    // them first, before the adding rules and its hourly quota.
    if (isGroup) await this.requireUsers(others);
    if (isGroup) await this.checkMayAdd(device.userId, others);
    if (isGroup) await this.d.limiters.take('groupCreate', device.userId);
    const now = this.d.clock.now();
    const members = [
      { userId: device.userId, role: 'creator' as Role },
      ...others.map((userId) => ({ userId, role: 'member' as Role })),
    ];
    const chatId = this.d.ids.chatId();
    const creation: ChatCreate = {
      chatId,
      kind: input.kind,
      name: input.kind === 'group' ? input.name : '',
      description: input.kind === 'group' ? input.description : '',
      createdBy: device.userId,
      createdByDevice: device.id,
      members,
      now,
      update: createdUpdate({ ...input, members, now }),
    };
    const created = await this.creates.enqueue(creation);
    if ('error' in created) {
      // A group that was not created does not count.
      if (isGroup) await this.d.limiters.give('groupCreate', device.userId);
      throw created.error;
    }
    const { chat } = created;
    // A direct chat that existed (created earlier, here or on another node) comes back as it
    // is; its creation was fanned out when it was made.
    if (chat.id !== chatId) return chat;
    // The new chat's members and first message are known here: the fan-out reads neither back.
    this.d.directory.noteCreated(chat);
    void this.d.hub.fanOut(createdMessage(creation), undefined);
    return chat;
  }

  async addMembers(device: Device, chatId: ChatId, userIds: UserId[]): Promise<ChatInfo> {
    const chat = await this.groupFor(device, chatId);
    if (!canManage(roleOf(chat, device.userId)))
      throw new ParleyError('PERMISSION_DENIED', 'only admins can add members');
    const current = new Set(chat.members.map((m) => m.userId));
    const added = [...new Set(userIds)].filter((u) => !current.has(u));
    if (added.length === 0) throw new ParleyError('ALREADY_MEMBER', 'every given user is already a member');
    this.checkGroupSize(current.size + added.length);
    await this.requireUsers(added);
    await this.checkMayAdd(device.userId, added);
    await this.mutate(device, {
      chatId,
      update: membersAddedUpdate(added),
      addMembers: added.map((userId) => ({ userId, role: 'member' as Role })),
      maxMembers: this.d.config.maxGroupMembers,
    });
    return (await this.d.store.chatGet(chatId))!;
  }

  async removeMember(device: Device, chatId: ChatId, userId: UserId): Promise<ChatInfo> {
    if (userId === device.userId) throw new ParleyError('INVALID_ARGUMENT', 'use leaveChat to leave a chat');
    const chat = await this.groupFor(device, chatId);
    const actor = roleOf(chat, device.userId);
    const target = roleOf(chat, userId);
    if (!target) throw new ParleyError('NOT_A_MEMBER', 'that user is not a member');
    if (!canManage(actor) || (target === 'creator' && actor !== 'creator')) {
      throw new ParleyError(
        'PERMISSION_DENIED',
        'only admins can remove members, and only the creator can remove the creator',
      );
    }
    await this.mutate(device, { chatId, update: memberRemovedUpdate(userId), removeUserIds: [userId] }, [
      userId,
    ]);
    return (await this.d.store.chatGet(chatId))!;
  }

  async leaveChat(device: Device, chatId: ChatId): Promise<ChatInfo> {
    await this.groupFor(device, chatId);
    return this.leaveAndPromote(device, chatId);
  }

  /**
   * For an account being deleted: leaves the chat, direct or group, as leaving does (the
   * other members get the member-left update; a group without an admin gets one). A chat
   * nobody else is in is left as it is ('alone'): the erasure drops it whole.
   */
  async leaveForErasure(device: Device, chatId: ChatId): Promise<'left' | 'alone' | 'not_member'> {
    const chat = await this.d.store.chatGet(chatId);
    if (!chat || !roleOf(chat, device.userId)) return 'not_member';
    if (chat.members.length === 1) return 'alone';
    await this.leaveAndPromote(device, chatId);
    return 'left';
  }

  private async leaveAndPromote(device: Device, chatId: ChatId): Promise<ChatInfo> {
    await this.mutate(
      device,
      { chatId, update: memberLeftUpdate(device.userId), removeUserIds: [device.userId] },
      [device.userId],
    );
    const after = (await this.d.store.chatGet(chatId))!;
    // The last admin leaving a group makes the longest-standing member an admin.
    const oldest = after.members[0];
    if (after.kind === 'group' && oldest && !after.members.some((m) => canManage(m.role))) {
      await this.mutate(device, {
        chatId,
        update: roleChangedUpdate(oldest.userId, 'admin'),
        setRole: { userId: oldest.userId, role: 'admin' },
      });
      return (await this.d.store.chatGet(chatId))!;
    }
    return after;
  }

  async updateChat(
    device: Device,
    chatId: ChatId,
    input: {
      name?: string;
      description?: string;
      iconMediaId?: string;
      onlyAdminsSend?: boolean;
      onlyAdminsEditInfo?: boolean;
      disappearingSeconds?: number;
    },
  ): Promise<ChatInfo> {
    if (input.disappearingSeconds !== undefined) {
      if (!DISAPPEARING_TIMERS.includes(input.disappearingSeconds)) {
        throw new ParleyError(
          'INVALID_ARGUMENT',
          `disappearingSeconds must be one of ${DISAPPEARING_TIMERS.join(', ')}`,
        );
      }
      const { disappearingSeconds, ...rest } = input;
      return this.setDisappearing(device, chatId, disappearingSeconds, rest);
    }
    const chat = await this.groupFor(device, chatId);
    const admin = canManage(roleOf(chat, device.userId));
    const changesInfo =
      input.name !== undefined || input.description !== undefined || input.iconMediaId !== undefined;
    const changesSettings = input.onlyAdminsSend !== undefined || input.onlyAdminsEditInfo !== undefined;
    if (changesSettings && !admin)
      throw new ParleyError('PERMISSION_DENIED', 'only admins can change group settings');
    if (changesInfo && chat.onlyAdminsEditInfo && !admin) {
      throw new ParleyError(
        'PERMISSION_DENIED',
        'only admins can change the name, description and icon of this group',
      );
    }
    if (changesInfo) {
      const name = input.name ?? chat.name;
      const description = input.description ?? chat.description;
      const iconMediaId = input.iconMediaId ?? chat.iconMediaId;
      checkInfo(name, description);
      if (iconMediaId !== '' && !BLOB_ID.test(iconMediaId)) {
        throw new ParleyError(
          'INVALID_ARGUMENT',
          'iconMediaId is a media id (64 lowercase hex digits), or empty to remove the icon',
        );
      }
      await this.mutate(device, {
        chatId,
        update: infoChangedUpdate({ name, description, iconMediaId }),
        name,
        description,
        ...(input.iconMediaId !== undefined && { iconMediaId }),
      });
    }
    if (changesSettings) {
      const settings = {
        onlyAdminsSend: input.onlyAdminsSend ?? chat.onlyAdminsSend,
        onlyAdminsEditInfo: input.onlyAdminsEditInfo ?? chat.onlyAdminsEditInfo,
      };
      await this.mutate(device, { chatId, update: settingsChangedUpdate(settings), settings });
    }
    return (await this.d.store.chatGet(chatId))!;
  }

  /** Direct chats too: either member may set the timer; in groups, admins only with onlyAdminsEditInfo. */
  private async setDisappearing(
    device: Device,
    chatId: ChatId,
    seconds: number,
    rest: {
      name?: string;
      description?: string;
      iconMediaId?: string;
      onlyAdminsSend?: boolean;
      onlyAdminsEditInfo?: boolean;
    },
  ): Promise<ChatInfo> {
    const chat = await this.getChat(device, chatId);
    if (chat.kind === 'group' && chat.onlyAdminsEditInfo && !canManage(roleOf(chat, device.userId))) {
      throw new ParleyError(
        'PERMISSION_DENIED',
        'only admins can change the disappearing timer of this group',
      );
    }
    if (chat.disappearingSeconds !== seconds) {
      await this.mutate(device, {
        chatId,
        update: disappearingChangedUpdate(seconds),
        disappearingSeconds: seconds,
      });
    }
    const others = { ...rest };
    if (Object.values(others).some((v) => v !== undefined)) return this.updateChat(device, chatId, others);
    return (await this.d.store.chatGet(chatId))!;
  }

  /** Pins a message for `durationMs` (0 unpins); at most MAX_PINS in force per chat. */
  async pin(device: Device, chatId: ChatId, seq: number, durationMs: number): Promise<ChatSummary> {
    const chat = await this.getChat(device, chatId);
    if (chat.kind === 'group' && chat.onlyAdminsEditInfo && !canManage(roleOf(chat, device.userId))) {
      throw new ParleyError('PERMISSION_DENIED', 'only admins can pin messages in this group');
    }
    const now = this.d.clock.now();
    if (durationMs > 0) {
      const expiresAt = now + durationMs;
      await this.mutate(device, {
        chatId,
        update: pinnedUpdate(seq, expiresAt),
        pin: { seq, expiresAt, now, max: MAX_PINS },
      });
    } else {
      await this.mutate(device, { chatId, update: unpinnedUpdate(seq), unpinSeq: seq });
    }
    return this.getChatSummary(device, chatId);
  }

  /** Promotes a member to admin or demotes an admin; admins and the creator only. */
  async setRole(device: Device, chatId: ChatId, userId: UserId, role: Role): Promise<ChatInfo> {
    if (role !== 'admin' && role !== 'member') {
      throw new ParleyError('INVALID_ARGUMENT', 'role must be ROLE_ADMIN or ROLE_MEMBER');
    }
    const chat = await this.groupFor(device, chatId);
    if (!canManage(roleOf(chat, device.userId)))
      throw new ParleyError('PERMISSION_DENIED', 'only admins can change roles');
    const current = roleOf(chat, userId);
    if (!current) throw new ParleyError('NOT_A_MEMBER', 'that user is not a member');
    if (current === 'creator')
      throw new ParleyError('PERMISSION_DENIED', 'the creator\u2019s role cannot change');
    if (current !== role) {
      await this.mutate(device, {
        chatId,
        update: roleChangedUpdate(userId, role),
        setRole: { userId, role },
      });
    }
    return (await this.d.store.chatGet(chatId))!;
  }

  /** Creates the group's invite code, replacing an earlier one; admins only. */
  async createInvite(device: Device, chatId: ChatId): Promise<string> {
    const chat = await this.groupFor(device, chatId);
    if (!canManage(roleOf(chat, device.userId)))
      throw new ParleyError('PERMISSION_DENIED', 'only admins can invite by link');
    const code = this.d.ids.secret().slice(0, 22);
    await this.d.store.inviteSet(chatId, code, device.userId, this.d.clock.now());
    return code;
  }

  async revokeInvite(device: Device, chatId: ChatId): Promise<void> {
    const chat = await this.groupFor(device, chatId);
    if (!canManage(roleOf(chat, device.userId)))
      throw new ParleyError('PERMISSION_DENIED', 'only admins can revoke invites');
    await this.d.store.inviteRevoke(chatId);
  }

  /** Joins the group of an invite code as a member (a member already in it gets the chat). */
  async joinByInvite(device: Device, code: string): Promise<ChatInfo> {
    const chatId = await this.d.store.inviteFind(code);
    if (!chatId) throw new ParleyError('NOT_FOUND', 'unknown or revoked invite code');
    const chat = (await this.d.store.chatGet(chatId))!;
    if (roleOf(chat, device.userId)) return chat;
    this.checkGroupSize(chat.members.length + 1);
    await this.mutate(device, {
      chatId,
      update: joinedByInviteUpdate(device.userId),
      addMembers: [{ userId: device.userId, role: 'member' }],
      maxMembers: this.d.config.maxGroupMembers,
    });
    return (await this.d.store.chatGet(chatId))!;
  }

  async getChat(device: Device, chatId: ChatId): Promise<ChatInfo> {
    const chat = await this.d.store.chatGet(chatId);
    if (!chat) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
    if (!roleOf(chat, device.userId))
      throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
    return chat;
  }

  /** The caller's chats, most recent activity first, with unread counts. */
  async listChats(device: Device): Promise<ChatSummary[]> {
    const list = await this.d.store.chatSummaries(device.userId);
    const activity = (c: ChatSummary) => c.lastMessage?.serverTime ?? c.createdAt;
    return list.sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : 1));
  }

  /** The chat with the caller's read position, unread count and newest message. */
  async getChatSummary(device: Device, chatId: ChatId): Promise<ChatSummary> {
    await this.getChat(device, chatId);
    const [summary] = await this.d.store.chatSummaries(device.userId, [chatId]);
    if (!summary) throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
    return { ...summary, pins: await this.d.store.pinsActive(chatId, this.d.clock.now()) };
  }

  /** The user read everything up to `seq`; only moves forward. */
  markRead(device: Device, chatId: ChatId, seq: number) {
    return this.d.store.chatReadMark(chatId, device.userId, seq, this.d.clock.now());
  }

  async history(
    device: Device,
    chatId: ChatId,
    range: { beforeSeq?: number; afterSeq?: number; limit: number },
  ): Promise<{ messages: StoredMessage[]; more: boolean }> {
    await this.getChat(device, chatId);
    const rows = await this.d.store.messagesHistory(device.id, chatId, { ...range, limit: range.limit + 1 });
    const more = rows.length > range.limit;
    // Pages are always returned in increasing seq order, whichever direction was read. Messages
    // withheld from the caller (sent while they had blocked the sender) are not theirs to see.
    const page = rows
      .slice(0, range.limit)
      .filter((m) => !m.withheld || m.senderUserId === device.userId)
      .sort((a, b) => a.seq - b.seq);
    return { messages: page, more };
  }

  // -- helpers ---------------------------------------------------------------------------------------

  private async groupFor(device: Device, chatId: ChatId): Promise<ChatInfo> {
    const chat = await this.getChat(device, chatId);
    if (chat.kind !== 'group')
      throw new ParleyError('INVALID_ARGUMENT', 'direct chats have fixed members and no name');
    return chat;
  }

  /**
   * GROUP_FULL early, before other checks, for a group that would have `members` members. Only
   * a first answer: concurrent adds each pass it, so the store re-checks in the add's
   * transaction (`maxMembers`), which is what keeps the limit.
   */
  private checkGroupSize(members: number): void {
    if (members > this.d.config.maxGroupMembers) {
      throw new ParleyError('GROUP_FULL', `a group has at most ${this.d.config.maxGroupMembers} members`);
    }
  }

  /** CANNOT_ADD_USER when one of `userIds` has blocked the one adding them. */
  private async checkMayAdd(actor: UserId, userIds: readonly UserId[]): Promise<void> {
    for (const u of userIds) {
      if (await this.d.blocks.isBlocked(u, actor))
        throw new ParleyError('CANNOT_ADD_USER', `${u} cannot be added to groups by you`, {
          details: { userId: u },
        });
    }
  }

  private async requireUsers(userIds: UserId[]): Promise<void> {
    const found = await this.d.store.usersExist(userIds);
    const missing = userIds.filter((u) => !found.has(u));
    if (missing.length) throw new ParleyError('USER_NOT_FOUND', `unknown user ${missing[0]}`);
  }

  private async mutate(
    device: Device,
    m: Omit<Parameters<Store['chatMutate']>[0], 'actorUserId' | 'actorDeviceId' | 'now'>,
    extraUsers: UserId[] = [],
  ): Promise<void> {
    const message = await this.d.store.chatMutate({
      ...m,
      actorUserId: device.userId,
      actorDeviceId: device.id,
      now: this.d.clock.now(),
    });
    this.d.directory.invalidateChat(m.chatId);
    await this.d.hub.fanOut(message, undefined, extraUsers);
  }
}

function roleOf(chat: ChatInfo, userId: UserId): Role | undefined {
  return chat.members.find((m) => m.userId === userId)?.role;
}

function checkInfo(name: string, description: string): void {
  if (name.length > NAME_MAX)
    throw new ParleyError('INVALID_ARGUMENT', `name is longer than ${NAME_MAX} characters`);
  if (description.length > DESCRIPTION_MAX) {
    throw new ParleyError('INVALID_ARGUMENT', `description is longer than ${DESCRIPTION_MAX} characters`);
  }
}

/** The other member of a direct chat. */
function otherOf(users: readonly UserId[], me: UserId): UserId | undefined {
  return users[0] === me ? users[1] : users[0];
}
