/**
 * Retry after a failed decrypt. A device that cannot decrypt a message asks the device that
 * sent it for a new ciphertext; the sender's device answers with one made for that device
 * only. The server checks both sides may see the message and relays the two pushes; it
 * stores nothing, so the asking device repeats its request until the message arrives.
 */
import { ParleyError } from '@parley/protocol';
import type { Directory } from '../chat/directory.js';
import type { ChatService } from '../chat/service.js';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { ChatId, Device, DeviceId, StoredMessage } from '../ports/types.js';

export interface RetryDeps {
  chats: Pick<ChatService, 'history' | 'getChat'>;
  directory: Pick<Directory, 'devicesOf'>;
  limiters: Limiters;
  config: Pick<Config, 'maxPayloadBytes'>;
  push(deviceId: DeviceId, body: RetryPush): void;
}

export type RetryPush =
  | {
      case: 'retryRequested';
      value: { chatId: string; seq: bigint; userId: string; deviceId: string };
    }
  | {
      case: 'resent';
      value: {
        chatId: string;
        seq: bigint;
        senderUserId: string;
        senderDeviceId: string;
        payload: Uint8Array;
      };
    };

export class RetryService {
  constructor(private readonly d: RetryDeps) {}

  /** `device` could not decrypt message `seq`: its sender's device is asked for it again. */
  async request(device: Device, chatId: ChatId, seq: number): Promise<void> {
    await this.d.limiters.take('retries', device.id);
    const m = await this.message(device, chatId, seq);
    if (m.senderDeviceId === device.id) {
      throw new ParleyError('INVALID_ARGUMENT', 'this device sent that message');
    }
    if (!m.body || m.body.length === 0) {
      throw new ParleyError('NOT_FOUND', 'that message has no content for this device');
    }
    this.d.push(m.senderDeviceId, {
      case: 'retryRequested',
      value: { chatId, seq: BigInt(seq), userId: device.userId, deviceId: device.id },
    });
  }

  /** The sender's device hands over a new ciphertext of message `seq` for `target` only. */
  async resend(
    device: Device,
    chatId: ChatId,
    seq: number,
    target: DeviceId,
    payload: Uint8Array,
  ): Promise<void> {
    await this.d.limiters.take('retries', device.id);
    if (payload.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'payload is empty');
    if (payload.length > this.d.config.maxPayloadBytes) {
      throw new ParleyError(
        'PAYLOAD_TOO_LARGE',
        `payload is larger than ${this.d.config.maxPayloadBytes} bytes`,
      );
    }
    if (target === device.id) throw new ParleyError('INVALID_ARGUMENT', 'a resend goes to another device');
    const m = await this.message(device, chatId, seq);
    if (m.senderDeviceId !== device.id) {
      throw new ParleyError('PERMISSION_DENIED', 'only the device that sent a message can resend it');
    }
    const chat = await this.d.chats.getChat(device, chatId);
    const members = chat.members.map((x) => x.userId);
    const devices = await Promise.all(members.map((u) => this.d.directory.devicesOf(u)));
    const owner = devices.findIndex((list) => list.includes(target));
    if (owner < 0) {
      throw new ParleyError('NOT_FOUND', 'that device is not a device of a member of this chat');
    }
    // A message withheld from the other member (who blocked the sender) never reaches them,
    // not even as a resend; the sender sees the same answer either way.
    if (m.withheld && members[owner] !== device.userId) return;
    this.d.push(target, {
      case: 'resent',
      value: { chatId, seq: BigInt(seq), senderUserId: device.userId, senderDeviceId: device.id, payload },
    });
  }

  /** Message `seq` as `device` may read it (membership and join point checked), else NOT_FOUND. */
  private async message(device: Device, chatId: ChatId, seq: number): Promise<StoredMessage> {
    const { messages } = await this.d.chats.history(device, chatId, { afterSeq: seq - 1, limit: 1 });
    const m = messages[0];
    if (!m || m.seq !== seq || m.kind !== 'payload' || m.deleted) {
      throw new ParleyError('NOT_FOUND', 'no such message in this chat');
    }
    return m;
  }
}
