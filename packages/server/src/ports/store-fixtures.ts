/**
 * Accounts and chats the Store contract suites share (store.contract.ts and the suites it
 * runs): one way to make them, so every suite means the same by "user 1" or "chat g".
 */
import type { ChatCreate, SendCommit, Store } from './store.js';
import type { ChatId, DeviceId, Role, UserId } from './types.js';

export const T0 = 1_700_000_000_000;
export const bytes = (s: string) => new TextEncoder().encode(s);

export interface Account {
  userId: UserId;
  deviceId: DeviceId;
}

/** User n: id `user-n`, phone +1555000000n, primary device `user-n/phone`. */
export async function addUser(store: Store, n: number, now = T0): Promise<Account> {
  const id = `user-${n}` as UserId;
  const device = `${id}/phone` as DeviceId;
  await store.primaryRegister({
    userId: id,
    phone: phoneOf(n),
    phoneHash: bytes(`hash-${n}`),
    deviceId: device,
    tokenHash: `token-${device}`,
    name: 'phone',
    now,
  });
  return { userId: id, deviceId: device };
}

export const phoneOf = (n: number) => `+1555${String(n).padStart(7, '0')}`;

/** Chat `id`, named after itself: `creator` (role creator) first, then `others`. */
export function chatInput(
  id: string,
  creator: Account,
  others: readonly Account[],
  kind: 'group' | 'direct' = 'group',
  now = T0,
): ChatCreate {
  return {
    chatId: id as ChatId,
    kind,
    name: id,
    description: '',
    createdBy: creator.userId,
    createdByDevice: creator.deviceId,
    members: [
      { userId: creator.userId, role: 'creator' as Role },
      ...others.map((o) => ({ userId: o.userId, role: 'member' as Role })),
    ],
    now,
    update: bytes(`created ${id}`),
  };
}

/** A send of `from` to chat `chatId` at T0, its payload the client message id; `extra` overrides. */
export function sendItem(
  chatId: string,
  from: Account,
  clientMessageId: string,
  extra: Partial<SendCommit> = {},
): SendCommit {
  return {
    chatId: chatId as ChatId,
    senderUserId: from.userId,
    senderDeviceId: from.deviceId,
    clientMessageId,
    serverTime: T0,
    payload: bytes(clientMessageId),
    devicePayloads: undefined,
    ...extra,
  };
}
