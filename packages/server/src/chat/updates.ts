/** Builds the encoded ChatUpdate bodies stored as 'update' messages. */
import {
  ChatUpdateKind,
  encodeChatUpdate,
  ChatKind as WireChatKind,
  Role as WireRole,
} from '@parley/protocol';
import type { ChatInfo, ChatKind, Role, UserId } from '../ports/types.js';
import {
  memberLen,
  numField,
  strField,
  varintLen,
  type WireMember,
  writeMember,
  writeNum,
  writeStr,
  writeVarint,
} from '../wire-write.js';

export const wireRole: Record<Role, WireRole> = {
  member: WireRole.MEMBER,
  admin: WireRole.ADMIN,
  creator: WireRole.CREATOR,
};

export const wireChatKind: Record<ChatKind, WireChatKind> = {
  direct: WireChatKind.DIRECT,
  group: WireChatKind.GROUP,
};

/**
 * The CREATED update, a new chat's first message. Written by hand (the bytes protobuf-es
 * writes for `ChatUpdate{kind: CREATED, name, description, chatKind, members}`; checked by
 * updates.test.ts): a client creates a chat for each contact it starts with, and building
 * it through the schema was a tenth of the main thread's time in a burst of creations.
 */
export function createdUpdate(chat: {
  kind: ChatKind;
  name: string;
  description: string;
  members: ReadonlyArray<{ userId: UserId; role: Role }>;
  now: number;
}): Uint8Array {
  const members: WireMember[] = chat.members.map((m) => ({
    userId: m.userId,
    role: wireRole[m.role],
    joinedAt: chat.now,
  }));
  let len =
    numField(ChatUpdateKind.CREATED) +
    strField(chat.name) +
    strField(chat.description) +
    numField(wireChatKind[chat.kind]);
  const lens = members.map(memberLen);
  for (const n of lens) len += 1 + varintLen(n) + n;
  // A buffer of its own, not a slice of Node's pool: it is posted to the store thread as is.
  const buf = Buffer.allocUnsafeSlow(len);
  let pos = writeNum(buf, 0, 0x08, ChatUpdateKind.CREATED); // ChatUpdate.kind = 1
  pos = writeStr(buf, pos, 0x1a, chat.name); // name = 3
  pos = writeStr(buf, pos, 0x22, chat.description); // description = 4
  pos = writeNum(buf, pos, 0x28, wireChatKind[chat.kind]); // chat_kind = 5
  for (let i = 0; i < members.length; i++) {
    buf[pos++] = 0x32; // members = 6
    pos = writeVarint(buf, pos, lens[i]!);
    pos = writeMember(buf, pos, members[i]!);
  }
  return new Uint8Array(buf.buffer, 0, pos);
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
