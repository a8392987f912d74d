/**
 * The key schedule of libsignal's PQXDH and double ratchet: the handshake secret split into
 * root, chain and SPQR keys, root-chain steps, chain steps and per-message keys (mixed with
 * the SPQR key as HKDF salt).
 */
import { concatBytes } from '../crypto/bytes.js';
import { hkdfSha256, hmacSha256, utf8 } from './primitives.js';
import { agree } from './xeddsa.js';

const PQXDH_INFO = utf8('WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024');

export interface HandshakeKeys {
  rootKey: Uint8Array;
  chainKey: Uint8Array;
  pqrKey: Uint8Array;
}

/** 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ Kyber secret → root, first chain, SPQR key. */
export async function handshakeKeys(dhs: Uint8Array[], kyberSecret: Uint8Array): Promise<HandshakeKeys> {
  const secret = concatBytes(new Uint8Array(32).fill(0xff), ...dhs, kyberSecret);
  const k = await hkdfSha256(secret, undefined, PQXDH_INFO, 96);
  return { rootKey: k.slice(0, 32), chainKey: k.slice(32, 64), pqrKey: k.slice(64, 96) };
}

/** A DH ratchet step: HKDF(salt root, DH(our, their), "WhisperRatchet") → new root, chain. */
export async function createChain(
  rootKey: Uint8Array,
  theirRatchetKey: Uint8Array,
  ourRatchetPrivate: Uint8Array,
): Promise<{ rootKey: Uint8Array; chainKey: Uint8Array }> {
  const k = await hkdfSha256(agree(ourRatchetPrivate, theirRatchetKey), rootKey, utf8('WhisperRatchet'), 64);
  return { rootKey: k.slice(0, 32), chainKey: k.slice(32, 64) };
}

export const messageSeed = (chainKey: Uint8Array) => hmacSha256(chainKey, Uint8Array.of(1));
export const nextChainKey = (chainKey: Uint8Array) => hmacSha256(chainKey, Uint8Array.of(2));

export interface MessageKeys {
  cipherKey: Uint8Array;
  macKey: Uint8Array;
  iv: Uint8Array;
}

export async function messageKeys(seed: Uint8Array, pqrKey: Uint8Array | undefined): Promise<MessageKeys> {
  const k = await hkdfSha256(seed, pqrKey, utf8('WhisperMessageKeys'), 80);
  return { cipherKey: k.slice(0, 32), macKey: k.slice(32, 64), iv: k.slice(64, 80) };
}
