/**
 * The two messages of a retry after a failed decrypt, as SecureMessaging handles them:
 * - `retryRequested`: another device could not decrypt what this device sent; the content is
 *   encrypted again for that device alone, over a fresh session from its current bundle (for
 *   a group with this device's current sender key), naming the message inside the encryption;
 * - `resent`: the new ciphertext of a message this device could not decrypt; it is checked to
 *   name that message and to come from the device that sent it, then delivered as `resent`.
 * What each side keeps meanwhile is in RetryBook.
 */
import { ParleyError } from '@parley/protocol';
import type { ParleyClient } from '../client.js';
import type { E2eProtocol } from '../crypto/types.js';
import { isOffline } from '../requests.js';
import { decodeEnvelope, type Envelope, encodeEnvelope, PAIRWISE, tagged } from './content.js';
import type { RetryBook } from './retries.js';
import type { SecureMessage } from './secure-messaging.js';

export interface RetryExchangeDeps {
  client: Pick<ParleyClient, 'preKeyBundles' | 'resend'>;
  protocol: E2eProtocol;
  book: RetryBook;
  /** Runs `fn` after the sends queued before it, so no two use a session at once. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Hands a recovered message to the app. */
  deliver(m: SecureMessage): Promise<void>;
  /** This user's profile key for a resend to `userId` (undefined when withheld or none). */
  profileKeyFor(userId: string): Promise<Uint8Array | undefined>;
  /** A resent copy carried `userId`'s profile key. */
  profileKeyReceived(userId: string, key: Uint8Array): Promise<void>;
  error(err: Error): void;
}

export class RetryExchange {
  constructor(private readonly d: RetryExchangeDeps) {}

  /** Another device could not decrypt what this one sent: encrypt it again, for it alone. */
  answer(r: { chatId: string; seq: number; userId: string; deviceId: string }): void {
    this.d
      .serial(() => this.resend(r))
      .catch((err) => {
        // Offline: the other device asks again later.
        if (isOffline(err)) return;
        this.d.error(err instanceof Error ? err : new Error(String(err)));
      });
  }

  private async resend(r: { chatId: string; seq: number; userId: string; deviceId: string }): Promise<void> {
    const sent = await this.d.book.sentContent(r.chatId, r.seq);
    if (!sent) return; // Older than the window (or sent before it was kept): nothing to send.
    // A fresh session: the other side's copy of the old one is what failed.
    const [bundle] = (await this.d.client.preKeyBundles(r.userId, [r.deviceId])).filter(
      (b) => b.deviceId === r.deviceId,
    );
    if (!bundle) return;
    await this.d.protocol.startSession(bundle);
    const profileKey = await this.d.profileKeyFor(r.userId);
    const envelope: Envelope = {
      ...sent.content,
      ...(profileKey && { profileKey }),
      resendOf: { chatId: r.chatId, seq: r.seq },
      ...(sent.group && { senderKey: await this.d.protocol.senderKeyDistribution(r.chatId) }),
    };
    const payload = tagged(PAIRWISE, await this.d.protocol.encrypt(r.deviceId, encodeEnvelope(envelope)));
    await this.d.client.resend(r.chatId, r.seq, r.deviceId, payload);
  }

  /** The new ciphertext of a message this device could not decrypt. */
  async receive(r: {
    chatId: string;
    seq: number;
    senderDeviceId: string;
    payload: Uint8Array;
  }): Promise<void> {
    const waiting = await this.d.book.waiting(r.chatId, r.seq).catch(() => undefined);
    // Not asked for (or already recovered), or not from the device that sent the message.
    if (!waiting || waiting.senderDeviceId !== r.senderDeviceId || r.payload[0] !== PAIRWISE) return;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(await this.d.protocol.decrypt(r.senderDeviceId, r.payload.subarray(1)));
      if (envelope.resendOf?.chatId !== r.chatId || envelope.resendOf.seq !== r.seq) {
        throw new ParleyError('INVALID_ARGUMENT', 'the resent content names another message');
      }
      if (envelope.senderKey) {
        await this.d.protocol.processSenderKeyDistribution(r.senderDeviceId, envelope.senderKey);
      }
    } catch (err) {
      // Still waiting: the next request may bring a copy that decrypts.
      this.d.error(
        new Error(`a resent copy of message ${r.seq} could not be decrypted either`, { cause: err }),
      );
      return;
    }
    await this.d.book.resolved(r.chatId, r.seq);
    if (envelope.profileKey) {
      await this.d
        .profileKeyReceived(waiting.senderUserId, envelope.profileKey)
        .catch((err) => this.d.error(err as Error));
    }
    if (envelope.control) return; // keys only: nothing to show
    const { senderKey: _, resendOf: __, profileKey: ___, control: ____, ...content } = envelope;
    await this.d.deliver({ ...waiting, content, resent: true });
  }
}
