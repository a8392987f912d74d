/**
 * Sender-key records as libsignal keeps them, stored as JSON in a KeyValueStore: per (sender
 * device, distribution id) up to 5 chains, newest first, each with its chain key, signing key
 * and the message keys kept for late messages (at most 2000).
 */
import type { KeyValueStore } from '../crypto/types.js';
import { hkdfSha256, hmacSha256, utf8 } from './primitives.js';

export const MAX_SENDER_KEY_STATES = 5;
export const MAX_MESSAGE_KEYS = 2000;
export const MAX_FORWARD_JUMPS = 25_000;

export interface SenderChain {
  chainId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingPublic: Uint8Array;
  /** Only on the sending device's own chain. */
  signingPrivate?: Uint8Array;
  /** Message-key seeds of skipped iterations, oldest first. */
  skipped: { iteration: number; seed: Uint8Array }[];
}

export const Namespaces = {
  senderKey: 'browser.senderKey',
  chatSenderKey: 'browser.chatSenderKey',
} as const;

export async function loadChains(
  kv: KeyValueStore,
  device: string,
  distributionId: string,
): Promise<SenderChain[]> {
  const raw = await kv.get(Namespaces.senderKey, recordKey(device, distributionId));
  if (!raw) return [];
  const parsed = JSON.parse(new TextDecoder().decode(raw)) as Record<string, unknown>[];
  return parsed.map((c) => ({
    chainId: c.chainId as number,
    iteration: c.iteration as number,
    chainKey: fromB64(c.chainKey as string),
    signingPublic: fromB64(c.signingPublic as string),
    ...(typeof c.signingPrivate === 'string' && { signingPrivate: fromB64(c.signingPrivate) }),
    skipped: (c.skipped as { iteration: number; seed: string }[]).map((s) => ({
      iteration: s.iteration,
      seed: fromB64(s.seed),
    })),
  }));
}

export async function saveChains(
  kv: KeyValueStore,
  device: string,
  distributionId: string,
  chains: SenderChain[],
): Promise<void> {
  const json = chains.map((c) => ({
    chainId: c.chainId,
    iteration: c.iteration,
    chainKey: toB64(c.chainKey),
    signingPublic: toB64(c.signingPublic),
    ...(c.signingPrivate && { signingPrivate: toB64(c.signingPrivate) }),
    skipped: c.skipped.map((s) => ({ iteration: s.iteration, seed: toB64(s.seed) })),
  }));
  await kv.put(Namespaces.senderKey, recordKey(device, distributionId), utf8(JSON.stringify(json)));
}

export async function deleteChains(kv: KeyValueStore, device: string, distributionId: string): Promise<void> {
  await kv.delete(Namespaces.senderKey, recordKey(device, distributionId));
}

/** Adds a chain as libsignal does: replaces one with the same chain id, keeps 5 at most. */
export function addChain(chains: SenderChain[], chain: SenderChain): SenderChain[] {
  const same = chains.find(
    (c) => c.chainId === chain.chainId && sameBytes(c.signingPublic, chain.signingPublic),
  );
  const rest = chains.filter((c) => c.chainId !== chain.chainId);
  return [same ?? chain, ...rest].slice(0, MAX_SENDER_KEY_STATES);
}

/** The next chain key (HMAC with 0x02) and this iteration's message-key seed (0x01). */
export async function step(chainKey: Uint8Array): Promise<{ seed: Uint8Array; next: Uint8Array }> {
  const [seed, next] = await Promise.all([
    hmacSha256(chainKey, Uint8Array.of(1)),
    hmacSha256(chainKey, Uint8Array.of(2)),
  ]);
  return { seed, next };
}

/** AES-256-CBC key and IV of one message: HKDF(seed, info "WhisperGroup") → iv 16 ‖ key 32. */
export async function messageKeys(seed: Uint8Array): Promise<{ iv: Uint8Array; key: Uint8Array }> {
  const derived = await hkdfSha256(seed, undefined, utf8('WhisperGroup'), 48);
  return { iv: derived.slice(0, 16), key: derived.slice(16, 48) };
}

export function uuidBytes(uuid: string): Uint8Array<ArrayBuffer> {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError('not a UUID');
  return Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

export function uuidString(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function recordKey(device: string, distributionId: string): string {
  return `${device}\u0000${distributionId}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function toB64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromB64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
