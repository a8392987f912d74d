/**
 * Push previews: a few words of a message, sealed for one recipient device, so a phone can
 * show them from a push while the server and the push provider see ciphertext only.
 *
 * Sealing touches no session state (a push may be opened before, after or instead of the
 * message it announces, and most are never opened): X25519 of a fresh ephemeral key with
 * the recipient device's identity key gives secrecy; X25519 of the sender device's identity
 * key with it shows that only the sender device (or the recipient) could have made it. Both
 * secrets go through HKDF-SHA256 into an AES-256-GCM key and nonce; the chat id and both
 * identity keys are bound as associated data, so a preview cannot be moved to another chat
 * or claimed by another sender. Unlike messages, a preview has no forward secrecy beyond the
 * recipient's identity key (see security.md, "Push previews").
 *
 * Wire: 0x01 | sender device id length (1 byte) | sender device id (UTF-8) | ephemeral
 * X25519 public key (32) | AES-GCM ciphertext and tag.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, ownBytes } from '../crypto/bytes.js';
import type { E2eProtocol } from '../crypto/types.js';

const VERSION = 1;
const INFO = new TextEncoder().encode('Parley push preview v1');
const CURVE_TYPE = 0x05;
/** Characters (code points) of text a preview keeps; longer text is cut and ends with "…". */
export const PREVIEW_MAX_CHARS = 100;
/** Bytes of a sealed preview the server accepts per device (protocol.md, sendRequest). */
export const PREVIEW_MAX_BYTES = 1024;

const utf8 = new TextEncoder();
const unutf8 = new TextDecoder('utf-8', { fatal: true });
const subtle = () => globalThis.crypto.subtle;

/** The preview text of a message: its text cut to PREVIEW_MAX_CHARS, or a file's name or type. */
export function previewText(content: {
  text?: string | undefined;
  attachment?: { name?: string | undefined; mime?: string | undefined } | undefined;
}): string | undefined {
  const text = content.text?.trim();
  if (text) return clip(text);
  const a = content.attachment;
  if (!a) return undefined;
  if (a.mime?.startsWith('image/')) return a.name ? clip(`📷 ${a.name}`) : '📷 Photo';
  if (a.mime?.startsWith('video/')) return a.name ? clip(`🎥 ${a.name}`) : '🎥 Video';
  if (a.mime?.startsWith('audio/')) return '🎤 Voice message';
  return clip(`📎 ${a.name ?? 'File'}`);
}

function clip(text: string): string {
  const chars = [...text];
  return chars.length <= PREVIEW_MAX_CHARS ? text : `${chars.slice(0, PREVIEW_MAX_CHARS - 1).join('')}…`;
}

async function keyAndNonce(dh1: Uint8Array, dh2: Uint8Array, header: Uint8Array) {
  const ikm = await subtle().importKey('raw', concatBytes(dh1, dh2), 'HKDF', false, ['deriveBits']);
  const bits = new Uint8Array(
    await subtle().deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: concatBytes(INFO, header) },
      ikm,
      44 * 8,
    ),
  );
  const key = await subtle().importKey('raw', bits.subarray(0, 32), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { key, iv: bits.slice(32, 44) };
}

const aad = (header: Uint8Array, chatId: string, sender: Uint8Array, recipient: Uint8Array) =>
  concatBytes(header, utf8.encode(chatId), new Uint8Array([0]), sender, recipient);

function curvePoint(serialized: Uint8Array): Uint8Array {
  return serialized.subarray(1);
}

/**
 * Seals `text` for the device whose identity key is `recipientIdentity` (33 bytes, as
 * `remoteIdentity` returns it), from this device (`protocol`, `senderDeviceId`) in `chatId`.
 */
export async function sealPreview(
  protocol: E2eProtocol,
  p: { senderDeviceId: string; chatId: string; recipientIdentity: Uint8Array; text: string },
): Promise<Uint8Array> {
  const id = utf8.encode(p.senderDeviceId);
  if (id.length === 0 || id.length > 255) throw new RangeError('a device id is 1-255 bytes');
  if (p.recipientIdentity.length !== 33 || p.recipientIdentity[0] !== CURVE_TYPE)
    throw new RangeError('an identity key is 33 bytes starting with 0x05');
  const ephemeral = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeral);
  const header = concatBytes(new Uint8Array([VERSION, id.length]), id, ephemeralPublic);
  const dh1 = x25519.getSharedSecret(ephemeral, curvePoint(p.recipientIdentity));
  const dh2 = await protocol.identityAgree(p.recipientIdentity);
  const sender = await protocol.identityKey();
  const { key, iv } = await keyAndNonce(dh1, dh2, header);
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(header, p.chatId, sender, p.recipientIdentity) },
    key,
    ownBytes(utf8.encode(p.text)),
  );
  return concatBytes(header, new Uint8Array(sealed));
}

/** Base64 (standard alphabet, as pushes carry it) to bytes; throws on anything else. */
export function base64Bytes(text: string): Uint8Array {
  if (text.length > 4 * PREVIEW_MAX_BYTES || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new RangeError('not base64');
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** What opening a preview needs of a device's keys (an E2eProtocol has them all). */
export type PreviewKeys = Pick<E2eProtocol, 'identityKey' | 'identityAgree' | 'remoteIdentity'>;

/** What an opened preview says. */
export interface OpenedPreview {
  senderDeviceId: string;
  text: string;
}

/**
 * Opens a preview sealed for this device, given the chat id the push names. Undefined when
 * it is malformed, was not made for this device and chat, or comes from a device whose
 * identity key this device does not know (a push cannot fetch keys; the message itself will
 * show once it arrives).
 */
export async function openPreview(
  protocol: PreviewKeys,
  chatId: string,
  sealed: Uint8Array,
): Promise<OpenedPreview | undefined> {
  if (sealed.length < 2 || sealed[0] !== VERSION) return undefined;
  const idLength = sealed[1]!;
  const headerLength = 2 + idLength + 32;
  if (idLength === 0 || sealed.length < headerLength + 16) return undefined;
  let senderDeviceId: string;
  try {
    senderDeviceId = unutf8.decode(sealed.subarray(2, 2 + idLength));
  } catch {
    return undefined;
  }
  const sender = await protocol.remoteIdentity(senderDeviceId);
  if (!sender) return undefined;
  const header = sealed.subarray(0, headerLength);
  const ephemeralPublic = sealed.subarray(2 + idLength, headerLength);
  const mine = await protocol.identityKey();
  try {
    const dh1 = await protocol.identityAgree(concatBytes(new Uint8Array([CURVE_TYPE]), ephemeralPublic));
    const dh2 = await protocol.identityAgree(sender);
    const { key, iv } = await keyAndNonce(dh1, dh2, header);
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv, additionalData: aad(header, chatId, sender, mine) },
      key,
      ownBytes(sealed.subarray(headerLength)),
    );
    return { senderDeviceId, text: unutf8.decode(plain) };
  } catch {
    return undefined;
  }
}
