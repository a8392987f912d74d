/**
 * Deleting an account (GDPR erasure), from its primary device, re-confirmed with a fresh SMS
 * code. The user first leaves every chat the usual way (other members get the member-left
 * update; a group left without an admin promotes one), then one store transaction erases the
 * rest (Store.accountErase), then sockets close and media bodies no one else uploaded go.
 * What is erased and what is kept is listed in docs/accounts.md; keep the two in step.
 */
import { ParleyError } from '@parley/protocol';
import type { AuthService } from '../auth/service.js';
import { codeKey } from '../auth/service.js';
import type { ChatService } from '../chat/service.js';
import type { Logger } from '../log.js';
import type { BlobStore } from '../ports/blobs.js';
import type { Store } from '../ports/store.js';
import type { ChatId, Device, DeviceId, UserId } from '../ports/types.js';
import { deleteAccountRequest, deleteCodeRequest, parseBody } from './schemas.js';

export interface AccountDeps {
  store: Store;
  auth: AuthService;
  chats: ChatService;
  blobs: BlobStore;
  log: Logger;
  /** The account is gone: close its devices' sockets everywhere and drop cached entries. */
  onErased: (userId: UserId, deviceIds: DeviceId[]) => void;
}

/** Rounds of leaving chats: a chat the user was added to while leaving the others is left next round. */
const LEAVE_ROUNDS = 3;

export interface AccountDeleted {
  /** Chats the other members were told the user left. */
  chatsLeft: number;
  /** Chats dropped whole (nobody else was in them). */
  chatsDropped: number;
}

export class AccountService {
  constructor(private readonly d: AccountDeps) {}

  /** Sends a code for deleting the account to its number (the primary device only). */
  async requestDeleteCode(
    device: Device,
    body: unknown,
    ip: string,
  ): Promise<{ phone: string; expiresInMs: number; resendAfterMs: number }> {
    parseBody(deleteCodeRequest, body);
    const phone = await this.phoneOf(device);
    return this.d.auth.requestCode(phone, ip, 'delete_account');
  }

  /** Erases the account; the code must be one sent by requestDeleteCode. */
  async deleteAccount(device: Device, body: unknown, ip: string): Promise<AccountDeleted> {
    const { code } = parseBody(deleteAccountRequest, body);
    const phone = await this.phoneOf(device);
    await this.d.auth.consumeCode(phone, code, 'delete_account', ip);
    const left = await this.leaveChats(device);
    const erased = await this.d.store.accountErase({
      userId: device.userId,
      codeKeys: [codeKey(phone, 'register'), codeKey(phone, 'delete_account')],
      leftChatIds: left,
    });
    this.d.onErased(device.userId, erased.deviceIds);
    let media = 0;
    try {
      media = await this.d.blobs.delete(erased.mediaIds);
    } catch (err) {
      // The upload records are gone; retention removes the bodies within retentionDays.
      this.d.log.warn({ err, bodies: erased.mediaIds.length }, 'removing a deleted account’s media failed');
    }
    this.d.log.info(
      {
        userId: device.userId,
        devices: erased.deviceIds.length,
        chatsLeft: left.length,
        chatsDropped: erased.droppedChatIds.length,
        messages: erased.erasedMessages,
        media,
      },
      'account deleted',
    );
    return { chatsLeft: left.length, chatsDropped: erased.droppedChatIds.length };
  }

  private async phoneOf(device: Device): Promise<string> {
    if (!device.primary) {
      throw new ParleyError('PERMISSION_DENIED', 'only the primary device can delete the account');
    }
    const user = await this.d.store.userGet(device.userId);
    if (!user) throw new ParleyError('UNAUTHENTICATED', 'the account no longer exists');
    return user.phone;
  }

  /** Leaves every chat of the user that someone else is in; returns those. */
  private async leaveChats(device: Device): Promise<ChatId[]> {
    const seen = new Set<ChatId>();
    const left: ChatId[] = [];
    for (let round = 0; round < LEAVE_ROUNDS; round++) {
      const chats = (await this.d.store.chatSummaries(device.userId)).filter((c) => !seen.has(c.id));
      if (chats.length === 0) break;
      for (const c of chats) {
        seen.add(c.id);
        if ((await this.d.chats.leaveForErasure(device, c.id)) === 'left') left.push(c.id);
      }
    }
    return left;
  }
}
