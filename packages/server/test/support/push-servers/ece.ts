/**
 * The receiving side of RFC 8291 (Web Push message encryption, aes128gcm content coding of
 * RFC 8188), written from the RFCs with node:crypto, so the tests check the real encryption
 * rather than trusting the library that did it.
 */
import { createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes } from 'node:crypto';

export interface Subscriber {
  /** The browser's keys, base64url, as a subscription carries them. */
  p256dh: string;
  auth: string;
  ecdh: ECDH;
  authSecret: Buffer;
}

/** A browser's subscription key pair (P-256) and 16-byte auth secret. */
export function newSubscriber(): Subscriber {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    p256dh: ecdh.getPublicKey().toString('base64url'),
    auth: authSecret.toString('base64url'),
    ecdh,
    authSecret,
  };
}

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length: number) =>
  Buffer.from(hkdfSync('sha256', ikm, salt, info, length));

/** Decrypts an aes128gcm body for `s`; throws when it does not decrypt or is not one padded record. */
export function decryptWebPush(body: Buffer, s: Subscriber): Buffer {
  // Header: salt (16) | record size (4) | key id length (1) | key id (the sender's public key).
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idLen = body[20]!;
  const senderKey = body.subarray(21, 21 + idLen);
  const record = body.subarray(21 + idLen);
  if (idLen !== 65) throw new Error('key id is not a P-256 public key');
  if (record.length > rs) throw new Error('more than one record');
  const shared = s.ecdh.computeSecret(senderKey);
  // RFC 8291 §3.4: IKM from the ECDH secret, keyed by the auth secret and both public keys.
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), s.ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(shared, s.authSecret, keyInfo, 32);
  // RFC 8188 §2.2/2.3: content key and nonce from the salt.
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}
