/**
 * Chat mutes and do-not-disturb: per user, stored (members.muted_until, users.dnd_until) and
 * told to the user's other devices (MutesChanged, over the bus when they are on other nodes).
 * Times are unix ms; 0 is off and MUTE_FOREVER is until turned off. A time already past is
 * stored as 0, so "muted" never depends on which clock reads the row.
 */
import { type FrameInit, MUTE_FOREVER, ParleyError } from '@parley/protocol';
import type { Store } from '../ports/store.js';
import type { ChatId, Device, UserId } from '../ports/types.js';

export interface MuteDeps {
  store: Store;
  now: () => number;
  /** The user's devices (to tell the other ones of a change). */
  devicesOf(userId: UserId): Promise<readonly string[]>;
  /** Pushes a frame body to devices here or on other nodes. */
  push(deviceIds: readonly string[], body: FrameInit['body']): void;
}

export class MuteService {
  constructor(private readonly d: MuteDeps) {}

  /** Mutes (or with 0 unmutes) the chat for the device's user; answers with the stored time. */
  async muteChat(device: Device, chatId: ChatId, until: number): Promise<number> {
    const stored = this.normalise(until);
    if (!(await this.d.store.chatMuteSet(chatId, device.userId, stored))) {
      if (!(await this.d.store.chatGet(chatId))) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
      throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
    }
    await this.tellOthers(device, { chat: { chatId, mutedUntil: BigInt(stored) } });
    return stored;
  }

  /** Sets the user's do-not-disturb (undefined: no change); answers with the stored time. */
  async setDoNotDisturb(device: Device, until: number | undefined): Promise<number> {
    if (until === undefined) return this.doNotDisturbOf(device.userId);
    const stored = this.normalise(until);
    await this.d.store.doNotDisturbSet(device.userId, stored);
    await this.tellOthers(device, { doNotDisturb: { until: BigInt(stored) } });
    return stored;
  }

  /** The user's do-not-disturb as stored (0 once it has passed). */
  async doNotDisturbOf(userId: UserId): Promise<number> {
    const until = (await this.d.store.alertSettings(userId)).doNotDisturbUntil;
    return until > this.d.now() ? until : 0;
  }

  private normalise(until: number): number {
    if (!Number.isSafeInteger(until) || until < 0 || until > MUTE_FOREVER)
      throw new ParleyError('INVALID_ARGUMENT', `until must be 0..${MUTE_FOREVER} (unix ms)`);
    return until > this.d.now() ? until : 0;
  }

  private async tellOthers(
    device: Device,
    value: Extract<FrameInit['body'], { case: 'mutesChanged' }>['value'],
  ): Promise<void> {
    const others = (await this.d.devicesOf(device.userId)).filter((id) => id !== device.id);
    this.d.push(others, { case: 'mutesChanged', value });
  }
}
