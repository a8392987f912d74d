/**
 * What travels inside the encryption: the message content and, for groups, the sender's
 * key distribution. The server never sees any of it. Encoded as UTF-8 JSON with base64
 * bytes; unknown fields are ignored so later versions can add to it.
 */
import { ParleyError } from '@parley/protocol';
import { concatBytes } from '../crypto/bytes.js';
import { type PointerPreview, previewFromJson, previewToJson } from './pointer-preview.js';

/**
 * Points at an encrypted attachment: its id on the server, and what is needed to read it;
 * and what can be shown before it is downloaded (dimensions, duration, blurhash, thumbnail:
 * pointer-preview.ts).
 */
export interface AttachmentPointer extends PointerPreview {
  mediaId: string;
  /** 64 bytes: AES-256 key and HMAC-SHA256 key. */
  key: Uint8Array;
  /** SHA-256 of the ciphertext. */
  digest: Uint8Array;
  /** Plaintext size in bytes. */
  size: number;
  mime?: string;
  name?: string;
}

export interface SecureContent {
  text?: string;
  attachment?: AttachmentPointer;
}

export interface Envelope extends SecureContent {
  /** The sender's key distribution for a group chat (pairwise messages only). */
  senderKey?: Uint8Array;
  /**
   * Set in a resend (after the recipient could not decrypt): the message it is the content of.
   * Inside the encryption, so the server cannot pass it off as another message.
   */
  resendOf?: { chatId: string; seq: number };
  /** The sender's profile key (32 bytes), for recipients who do not have the current one. */
  profileKey?: Uint8Array;
  /** A control message: it carries keys only and is not shown as a message. */
  control?: 'profileKey';
}

/** Size of a profile key (AES-256). */
export const PROFILE_KEY_BYTES = 32;

/** First byte of a payload: how it was encrypted. */
export const PAIRWISE = 1;
export const GROUP = 2;

/** A payload: the encryption's tag byte, then the ciphertext. */
export function tagged(tag: typeof PAIRWISE | typeof GROUP, ciphertext: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), ciphertext);
}

const b64 = (b: Uint8Array) => {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
};
const unb64 = (s: unknown, field: string): Uint8Array => {
  if (typeof s !== 'string') throw new ParleyError('INVALID_ARGUMENT', `content.${field} is not base64`);
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};

/** An attachment pointer as the JSON inside the encryption (messages and profiles) holds it. */
export function pointerToJson(a: AttachmentPointer): Record<string, unknown> {
  return {
    id: a.mediaId,
    k: b64(a.key),
    d: b64(a.digest),
    s: a.size,
    ...(a.mime !== undefined && { m: a.mime }),
    ...(a.name !== undefined && { n: a.name }),
    ...previewToJson(a),
  };
}

export function pointerFromJson(a: Record<string, unknown>): AttachmentPointer {
  if (typeof a.id !== 'string' || typeof a.s !== 'number') {
    throw new ParleyError('INVALID_ARGUMENT', 'content.attachment is not valid');
  }
  return {
    mediaId: a.id,
    key: unb64(a.k, 'attachment.key'),
    digest: unb64(a.d, 'attachment.digest'),
    size: a.s,
    ...(typeof a.m === 'string' && { mime: a.m }),
    ...(typeof a.n === 'string' && { name: a.n }),
    ...previewFromJson(a),
  };
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  const a = e.attachment;
  const json = {
    v: 1,
    ...(e.text !== undefined && { t: e.text }),
    ...(a && { a: pointerToJson(a) }),
    ...(e.senderKey && { sk: b64(e.senderKey) }),
    ...(e.resendOf && { r: [e.resendOf.chatId, e.resendOf.seq] }),
    ...(e.profileKey && { pk: b64(e.profileKey) }),
    ...(e.control && { c: e.control }),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'decrypted content is not valid');
  }
  if (typeof j !== 'object' || j === null)
    throw new ParleyError('INVALID_ARGUMENT', 'decrypted content is not valid');
  const out: Envelope = {};
  if (typeof j.t === 'string') out.text = j.t;
  const a = j.a as Record<string, unknown> | undefined;
  if (a && typeof a === 'object') out.attachment = pointerFromJson(a);
  if (j.sk !== undefined) out.senderKey = unb64(j.sk, 'senderKey');
  if (j.r !== undefined) {
    const r = j.r as unknown[];
    if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isSafeInteger(r[1])) {
      throw new ParleyError('INVALID_ARGUMENT', 'content.resendOf is not valid');
    }
    out.resendOf = { chatId: r[0], seq: r[1] as number };
  }
  if (j.pk !== undefined) {
    const key = unb64(j.pk, 'profileKey');
    if (key.length !== PROFILE_KEY_BYTES)
      throw new ParleyError('INVALID_ARGUMENT', 'content.profileKey is not valid');
    out.profileKey = key;
  }
  if (j.c === 'profileKey') out.control = 'profileKey';
  return out;
}
