/**
 * Pairwise sessions of a browser device that interoperate with the Node SDK's libsignal
 * sessions: PQXDH (X25519 + Kyber-1024), the double ratchet and SPQR's epoch-0 chain (see
 * spqr-chain.ts for what that leaves out), over libsignal's version-4 wire format and the
 * Node SDK's framing (one type byte: 3 for a first message, 2 after). State lives in a
 * KeyValueStore; calls run one at a time; a failed decryption changes nothing.
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import type { KeyUpload, KeyValueStore, PreKeyBundle } from '../crypto/types.js';
import { decapsulate } from './kyber1024.js';
import { KeyNamespaces, LocalKeys } from './local-keys.js';
import { aesCbcDecrypt, aesCbcEncrypt } from './primitives.js';
import { messageKeys, messageSeed, nextChainKey } from './ratchet.js';
import {
  accept,
  initiate,
  MAX_FORWARD_JUMPS,
  MAX_SKIPPED_KEYS,
  type ReceiverChain,
  receiverChain,
  type Session,
  sameBytes,
} from './session-state.js';
import {
  checkMac,
  decodePreKeyMessage,
  decodeSignalMessage,
  encodePreKeyMessage,
  encodeSignalMessage,
} from './signal-wire.js';
import { recvKey, sendKey } from './spqr-chain.js';
import { getJson, putJson } from './stored-json.js';

export const FRAME_WHISPER = 2;
export const FRAME_PREKEY = 3;

export class BrowserSessions {
  private readonly keys: LocalKeys;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly kv: KeyValueStore) {
    this.keys = new LocalKeys(kv);
  }

  initKeys(oneTimeCount: number): Promise<KeyUpload> {
    return this.serial(() => this.keys.initKeys(oneTimeCount));
  }

  hasSession(deviceId: string): Promise<boolean> {
    return this.serial(async () => (await this.load(deviceId)) !== undefined);
  }

  startSession(bundle: PreKeyBundle): Promise<void> {
    return this.serial(async () => {
      const id = await this.keys.identity();
      await this.save(bundle.deviceId, await initiate(bundle, id.keyPair, id.registrationId));
    });
  }

  encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      const session = await this.load(deviceId);
      if (!session) throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
      const pq = await sendKey(session.spqr);
      const keys = await messageKeys(await messageSeed(session.sender.chainKey), pq.key);
      const message = await encodeSignalMessage(
        {
          ratchetKey: session.sender.keyPair.publicKey,
          counter: session.sender.index,
          previousCounter: session.previousCounter,
          ciphertext: await aesCbcEncrypt(keys.cipherKey, keys.iv, plaintext),
          pqRatchet: pq.field,
        },
        keys.macKey,
        session.localIdentity,
        session.remoteIdentity,
      );
      session.sender.chainKey = await nextChainKey(session.sender.chainKey);
      session.sender.index += 1;
      await this.save(deviceId, session);
      const { pending } = session;
      if (!pending) return concatBytes(Uint8Array.of(FRAME_WHISPER), message);
      const first = encodePreKeyMessage({
        registrationId: session.localRegistrationId,
        ...(pending.preKeyId !== undefined && { preKeyId: pending.preKeyId }),
        signedPreKeyId: pending.signedPreKeyId,
        kyberPreKeyId: pending.kyberPreKeyId,
        kyberCiphertext: pending.kyberCiphertext,
        baseKey: pending.baseKey,
        identityKey: session.localIdentity,
        message,
      });
      return concatBytes(Uint8Array.of(FRAME_PREKEY), first);
    });
  }

  decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      const type = ciphertext[0];
      const body = ciphertext.subarray(1);
      if (type === FRAME_WHISPER) {
        const session = await this.load(deviceId);
        if (!session) throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
        const plaintext = await decryptSignal(session, body, deviceId);
        await this.save(deviceId, session);
        return plaintext;
      }
      if (type !== FRAME_PREKEY) throw new E2eError('BAD_MESSAGE', `unknown ciphertext type ${type}`);
      const first = decodePreKeyMessage(body);
      const existing = await this.load(deviceId);
      const session =
        existing && sameBytes(existing.baseKey, first.baseKey)
          ? existing
          : await this.respond(first, deviceId);
      const plaintext = await decryptSignal(session, first.message, deviceId);
      await this.save(deviceId, session);
      if (first.preKeyId !== undefined) await this.keys.deletePreKey(first.preKeyId);
      return plaintext;
    });
  }

  private async respond(first: ReturnType<typeof decodePreKeyMessage>, deviceId: string): Promise<Session> {
    const id = await this.keys.identity();
    const signedPreKey = await this.keys.signedPreKey(first.signedPreKeyId);
    const kyber = await this.keys.kyberPreKey(first.kyberPreKeyId);
    const oneTime = first.preKeyId === undefined ? undefined : await this.keys.preKey(first.preKeyId);
    if (!signedPreKey || !kyber || (first.preKeyId !== undefined && !oneTime)) {
      throw new E2eError(
        'UNKNOWN_PREKEY',
        `a first message from ${deviceId} needs a prekey this device no longer has`,
      );
    }
    return accept(
      {
        identity: id.keyPair,
        registrationId: id.registrationId,
        signedPreKey,
        ...(oneTime && { oneTimePreKey: oneTime }),
        kyberSecret: decapsulate(first.kyberCiphertext, kyber.secretKey),
      },
      first.identityKey,
      first.baseKey,
    );
  }

  private load(deviceId: string): Promise<Session | undefined> {
    return getJson<Session>(this.kv, KeyNamespaces.session, deviceId);
  }

  private save(deviceId: string, session: Session): Promise<void> {
    return putJson(this.kv, KeyNamespaces.session, deviceId, session);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Decrypts one SignalMessage into `session` (mutated only when everything checks out). */
async function decryptSignal(session: Session, bytes: Uint8Array, deviceId: string): Promise<Uint8Array> {
  const work = structuredClone(session);
  const message = decodeSignalMessage(bytes);
  const chain = await receiverChain(work, message.ratchetKey);
  const seed = await consumeSeed(chain, message.counter, deviceId);
  const pqKey = await recvKey(work.spqr, message.pqRatchet);
  const keys = await messageKeys(seed, pqKey);
  if (!(await checkMac(bytes, keys.macKey, work.remoteIdentity, work.localIdentity))) {
    throw new E2eError('DECRYPT_FAILED', `cannot decrypt a message from ${deviceId}: MAC does not verify`);
  }
  let plaintext: Uint8Array;
  try {
    plaintext = await aesCbcDecrypt(keys.cipherKey, keys.iv, message.ciphertext);
  } catch (err) {
    throw new E2eError('DECRYPT_FAILED', `cannot decrypt a message from ${deviceId}`, { cause: err });
  }
  // A message from the peer means it has the session: no more PQXDH fields on ours.
  delete work.pending;
  delete session.pending;
  Object.assign(session, work);
  return plaintext;
}

async function consumeSeed(chain: ReceiverChain, counter: number, deviceId: string): Promise<Uint8Array> {
  if (counter < chain.index) {
    const kept = chain.skipped.findIndex((s) => s.index === counter);
    if (kept < 0) throw new E2eError('DUPLICATE_MESSAGE', `message from ${deviceId} was already decrypted`);
    return chain.skipped.splice(kept, 1)[0]!.seed;
  }
  if (counter - chain.index > MAX_FORWARD_JUMPS) {
    throw new E2eError('DECRYPT_FAILED', `a message from ${deviceId} is too far in the future`);
  }
  while (chain.index < counter) {
    chain.skipped.push({ index: chain.index, seed: await messageSeed(chain.chainKey) });
    chain.chainKey = await nextChainKey(chain.chainKey);
    chain.index += 1;
  }
  if (chain.skipped.length > MAX_SKIPPED_KEYS)
    chain.skipped.splice(0, chain.skipped.length - MAX_SKIPPED_KEYS);
  const seed = await messageSeed(chain.chainKey);
  chain.chainKey = await nextChainKey(chain.chainKey);
  chain.index += 1;
  return seed;
}
