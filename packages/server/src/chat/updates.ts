/** Builds the encoded ChatUpdate bodies stored as 'update' messages. */
import {
  ChatUpdateKind,
  create,
  encodeChatUpdate,
  MemberSchema,
  ChatKind as WireChatKind,
  Role as WireRole,
} from '@parley/protocol';
import type { ChatInfo, ChatKind, Role, UserId } from '../ports/types.js';

export const wireRole: Record<Role, WireRole> = {
  member: WireRole.MEMBER,
  admin: WireRole.ADMIN,
  creator: WireRole.CREATOR,
};

export const wireChatKind: Record<ChatKind, WireChatKind> = {
  direct: WireChatKind.DIRECT,
  group: WireChatKind.GROUP,
};

export function createdUpdate(chat: {
  kind: ChatKind;
  name: string;
  description: string;
  members: ReadonlyArray<{ userId: UserId; role: Role }>;
  now: number;
}): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.CREATED,
    chatKind: wireChatKind[chat.kind],
    name: chat.name,
    description: chat.description,
    members: chat.members.map((m) =>
      create(MemberSchema, { userId: m.userId, role: wireRole[m.role], joinedAt: BigInt(chat.now) }),
    ),
  });
}

export function membersAddedUpdate(userIds: readonly UserId[]): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.MEMBERS_ADDED,
    userIds: [...userIds],
    role: WireRole.MEMBER,
  });
}

export function memberRemovedUpdate(userId: UserId): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.MEMBER_REMOVED, userIds: [userId] });
}

export function memberLeftUpdate(userId: UserId): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.MEMBER_LEFT, userIds: [userId] });
}

export function infoChangedUpdate(chat: Pick<ChatInfo, 'name' | 'description' | 'iconMediaId'>): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.INFO_CHANGED,
    name: chat.name,
    description: chat.description,
    iconMediaId: chat.iconMediaId,
  });
}

export function roleChangedUpdate(userId: UserId, role: Role): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.ROLE_CHANGED, userIds: [userId], role: wireRole[role] });
}

export function settingsChangedUpdate(settings: {
  onlyAdminsSend: boolean;
  onlyAdminsEditInfo: boolean;
}): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.SETTINGS_CHANGED, ...settings });
}

export function joinedByInviteUpdate(userId: UserId): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.JOINED_BY_INVITE,
    userIds: [userId],
    role: WireRole.MEMBER,
  });
}

export function disappearingChangedUpdate(seconds: number): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.DISAPPEARING_CHANGED, disappearingSeconds: seconds });
}

export function pinnedUpdate(seq: number, expiresAt: number): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.PINNED,
    pinSeq: BigInt(seq),
    pinExpiresAt: BigInt(expiresAt),
  });
}

export function unpinnedUpdate(seq: number): Uint8Array {
  return encodeChatUpdate({ kind: ChatUpdateKind.UNPINNED, pinSeq: BigInt(seq) });
}
