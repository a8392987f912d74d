import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTACHMENT_KEY_BYTES, decryptAttachment, encryptAttachment } from './attachments.js';
import { E2eError } from './errors.js';

const invalid = (message: RegExp) => (err: unknown) =>
  err instanceof E2eError && err.code === 'ATTACHMENT_INVALID' && message.test(err.message);

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

test('an attachment round-trips, with a 64-byte key, its size and the digest of the ciphertext', async () => {
  for (const length of [0, 1, 15, 16, 17, 100_000]) {
    const plain = new Uint8Array(length).map((_, i) => (i * 13) & 0xff);
    const encrypted = await encryptAttachment(plain);
    assert.equal(encrypted.key.length, ATTACHMENT_KEY_BYTES);
    assert.equal(encrypted.size, plain.length);
    // IV + padded body + MAC.
    assert.equal(encrypted.ciphertext.length, 16 + (Math.floor(plain.length / 16) + 1) * 16 + 32);
    assert.deepEqual(encrypted.digest, await sha256(encrypted.ciphertext.slice()));
    assert.deepEqual(await decryptAttachment(encrypted.ciphertext, encrypted.key, encrypted.digest), plain);
  }
});

test('two encryptions of the same attachment share no key, IV or ciphertext', async () => {
  const plain = new TextEncoder().encode('same photo');
  const a = await encryptAttachment(plain);
  const b = await encryptAttachment(plain);
  assert.notDeepEqual(a.key, b.key);
  assert.notDeepEqual(a.ciphertext.subarray(0, 16), b.ciphertext.subarray(0, 16));
  assert.notDeepEqual(a.ciphertext, b.ciphertext);
});

test('a flipped ciphertext byte is refused even when the digest is recomputed (MAC check)', async () => {
  const { ciphertext, key, digest } = await encryptAttachment(new TextEncoder().encode('secret document'));
  for (const index of [0, 20, ciphertext.length - 1]) {
    const tampered = ciphertext.slice();
    tampered[index]! ^= 0x01;
    await assert.rejects(decryptAttachment(tampered, key, digest), invalid(/digest mismatch/));
    await assert.rejects(decryptAttachment(tampered, key, await sha256(tampered)), invalid(/MAC mismatch/));
  }
});

test('a wrong digest is refused before the key is used', async () => {
  const { ciphertext, key, digest } = await encryptAttachment(new Uint8Array([1, 2, 3]));
  const wrong = digest.slice();
  wrong[5]! ^= 0x80;
  await assert.rejects(decryptAttachment(ciphertext, key, wrong), invalid(/digest mismatch/));
  await assert.rejects(
    decryptAttachment(ciphertext, key, digest.subarray(0, 31)),
    invalid(/digest mismatch/),
  );
});

test('a wrong key is refused: another MAC key, or a key of the wrong length', async () => {
  const { ciphertext, key, digest } = await encryptAttachment(new Uint8Array([1, 2, 3]));
  const otherMac = key.slice();
  otherMac[40]! ^= 0x01;
  await assert.rejects(decryptAttachment(ciphertext, otherMac, digest), invalid(/MAC mismatch/));
  const other = (await encryptAttachment(new Uint8Array([1, 2, 3]))).key;
  await assert.rejects(decryptAttachment(ciphertext, other, digest), invalid(/MAC mismatch/));
  await assert.rejects(decryptAttachment(ciphertext, key.subarray(0, 32), digest), invalid(/64 bytes/));
});

test('a truncated blob is refused', async () => {
  const { ciphertext, key } = await encryptAttachment(new Uint8Array([1, 2, 3]));
  const short = ciphertext.slice(0, 40);
  await assert.rejects(decryptAttachment(short, key, await sha256(short)), invalid(/impossible length/));
});
