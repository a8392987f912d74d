/**
 * One pairwise session as this suite keeps it: the double ratchet's root, sending chain and
 * up to 5 receiving chains (with keys kept for late messages), the SPQR chain, and until the
 * first reply the PQXDH fields every outgoing message repeats. Set up from a bundle (PQXDH
 * initiator) or from a first message (responder), as libsignal's session initialisation.
 */
import { E2eError } from '../crypto/errors.js';
import type { PreKeyBundle } from '../crypto/types.js';
import { encapsulate } from './kyber1024.js';
import { createChain, handshakeKeys } from './ratchet.js';
import { newChain, type SpqrChain } from './spqr-chain.js';
import { agree, type CurveKeyPair, generateKeyPair, verify } from './xeddsa.js';

export const MAX_RECEIVER_CHAINS = 5;
export const MAX_SKIPPED_KEYS = 2000;
export const MAX_FORWARD_JUMPS = 25_000;

export interface ReceiverChain {
  ratchetKey: Uint8Array;
  chainKey: Uint8Array;
  index: number;
  skipped: { index: number; seed: Uint8Array }[];
}

export interface PendingPreKey {
  preKeyId?: number;
  signedPreKeyId: number;
  kyberPreKeyId: number;
  kyberCiphertext: Uint8Array;
  baseKey: Uint8Array;
  /** When the session was started (ms since the epoch), for libsignal's 30-day limit. */
  createdAt?: number;
}

export interface Session {
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  localRegistrationId: number;
  baseKey: Uint8Array;
  rootKey: Uint8Array;
  sender: { keyPair: CurveKeyPair; chainKey: Uint8Array; index: number };
  previousCounter: number;
  receivers: ReceiverChain[];
  spqr: SpqrChain;
  pending?: PendingPreKey;
}

/** PQXDH as initiator against a bundle whose signatures were checked here first. */
export async function initiate(
  bundle: PreKeyBundle,
  identity: CurveKeyPair,
  registrationId: number,
): Promise<Session> {
  for (const [name, key] of [
    ['signed prekey', bundle.signedPreKey],
    ['last-resort key', bundle.lastResortKey],
  ] as const) {
    if (!verify(bundle.identityKey, key.publicKey, key.signature)) {
      throw new E2eError('BAD_BUNDLE', `the ${name} signature of ${bundle.deviceId} does not verify`);
    }
  }
  const base = generateKeyPair();
  const theirSigned = bundle.signedPreKey.publicKey;
  const dhs = [
    agree(identity.privateKey, theirSigned),
    agree(base.privateKey, bundle.identityKey),
    agree(base.privateKey, theirSigned),
  ];
  if (bundle.oneTimePreKey) dhs.push(agree(base.privateKey, bundle.oneTimePreKey.publicKey));
  const { sharedSecret, ciphertext } = encapsulate(bundle.lastResortKey.publicKey);
  const hk = await handshakeKeys(dhs, sharedSecret);
  const sending = generateKeyPair();
  const step = await createChain(hk.rootKey, theirSigned, sending.privateKey);
  return {
    localIdentity: identity.publicKey,
    remoteIdentity: bundle.identityKey,
    localRegistrationId: registrationId,
    baseKey: base.publicKey,
    rootKey: step.rootKey,
    sender: { keyPair: sending, chainKey: step.chainKey, index: 0 },
    previousCounter: 0,
    receivers: [{ ratchetKey: theirSigned, chainKey: hk.chainKey, index: 0, skipped: [] }],
    spqr: await newChain(hk.pqrKey, true),
    pending: {
      ...(bundle.oneTimePreKey && { preKeyId: bundle.oneTimePreKey.id }),
      signedPreKeyId: bundle.signedPreKey.id,
      kyberPreKeyId: bundle.lastResortKey.id,
      kyberCiphertext: ciphertext,
      baseKey: base.publicKey,
    },
  };
}

export interface ResponderKeys {
  identity: CurveKeyPair;
  registrationId: number;
  signedPreKey: CurveKeyPair;
  oneTimePreKey?: CurveKeyPair;
  kyberSecret: Uint8Array;
}

/** PQXDH as responder, from the first message's base key and the decapsulated Kyber secret. */
export async function accept(
  keys: ResponderKeys,
  theirIdentity: Uint8Array,
  theirBase: Uint8Array,
): Promise<Session> {
  const dhs = [
    agree(keys.signedPreKey.privateKey, theirIdentity),
    agree(keys.identity.privateKey, theirBase),
    agree(keys.signedPreKey.privateKey, theirBase),
  ];
  if (keys.oneTimePreKey) dhs.push(agree(keys.oneTimePreKey.privateKey, theirBase));
  const hk = await handshakeKeys(dhs, keys.kyberSecret);
  return {
    localIdentity: keys.identity.publicKey,
    remoteIdentity: theirIdentity,
    localRegistrationId: keys.registrationId,
    baseKey: theirBase,
    rootKey: hk.rootKey,
    sender: { keyPair: keys.signedPreKey, chainKey: hk.chainKey, index: 0 },
    previousCounter: 0,
    receivers: [],
    spqr: await newChain(hk.pqrKey, false),
  };
}

/** The receiving chain for `theirRatchetKey`, stepping the DH ratchet when it is new. */
export async function receiverChain(session: Session, theirRatchetKey: Uint8Array): Promise<ReceiverChain> {
  const known = session.receivers.find((r) => sameBytes(r.ratchetKey, theirRatchetKey));
  if (known) return known;
  const recv = await createChain(session.rootKey, theirRatchetKey, session.sender.keyPair.privateKey);
  const sending = generateKeyPair();
  const send = await createChain(recv.rootKey, theirRatchetKey, sending.privateKey);
  session.previousCounter = Math.max(session.sender.index - 1, 0);
  session.rootKey = send.rootKey;
  const chain = { ratchetKey: theirRatchetKey, chainKey: recv.chainKey, index: 0, skipped: [] };
  session.receivers.push(chain);
  if (session.receivers.length > MAX_RECEIVER_CHAINS) session.receivers.shift();
  session.sender = { keyPair: sending, chainKey: send.chainKey, index: 0 };
  return chain;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
