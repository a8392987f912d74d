/**
 * Encrypting and decrypting one message in one session state: the double ratchet's chain
 * keys, the SPQR chain key as HKDF salt, AES-256-CBC and the SignalMessage MAC. A first
 * message (until the peer answers) wraps the SignalMessage in a PreKeySignalMessage.
 */
import { E2eError } from '../crypto/errors.js';
import { aesCbcDecrypt, aesCbcEncrypt } from './primitives.js';
import { messageKeys, messageSeed, nextChainKey } from './ratchet.js';
import {
  MAX_FORWARD_JUMPS,
  MAX_SKIPPED_KEYS,
  type ReceiverChain,
  receiverChain,
  type Session,
} from './session-state.js';
import { checkMac, decodeSignalMessage, encodePreKeyMessage, encodeSignalMessage } from './signal-wire.js';
import { recvKey, sendKey } from './spqr-chain.js';

/** The next message of `session` (mutated: its sending chain moves on). */
export async function encryptInSession(
  session: Session,
  plaintext: Uint8Array,
): Promise<{ prekey: boolean; body: Uint8Array }> {
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
  const { pending } = session;
  if (!pending) return { prekey: false, body: message };
  const body = encodePreKeyMessage({
    registrationId: session.localRegistrationId,
    ...(pending.preKeyId !== undefined && { preKeyId: pending.preKeyId }),
    signedPreKeyId: pending.signedPreKeyId,
    kyberPreKeyId: pending.kyberPreKeyId,
    kyberCiphertext: pending.kyberCiphertext,
    baseKey: pending.baseKey,
    identityKey: session.localIdentity,
    message,
  });
  return { prekey: true, body };
}

/** Decrypts one SignalMessage; `session` is changed only when everything checks out. */
export async function decryptInSession(
  session: Session,
  bytes: Uint8Array,
  deviceId: string,
): Promise<Uint8Array> {
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
