import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEnvelope, encodeEnvelope } from './content.js';
import {
  checkProfileContent,
  newProfileKey,
  openProfile,
  PROFILE_PAD_BYTES,
  type ProfileContent,
  sealProfile,
} from './profile-cipher.js';

const avatar = {
  mediaId: 'f'.repeat(64),
  key: new Uint8Array(64).fill(3),
  digest: new Uint8Array(32).fill(4),
  size: 1234,
  mime: 'image/png',
};

describe('profile encryption', () => {
  test('a sealed profile opens with its key, user and version', async () => {
    const key = newProfileKey();
    const content: ProfileContent = { name: 'Zoë 🦊', about: 'at the "pub"', avatar };
    const sealed = await sealProfile(key, 'u1', 3, content);
    assert.deepEqual(await openProfile(key, 'u1', 3, sealed), content);
  });

  test('another key, user or version does not open it', async () => {
    const key = newProfileKey();
    const sealed = await sealProfile(key, 'u1', 3, { name: 'Ann', about: '' });
    const bad = { code: 'INVALID_ARGUMENT' };
    await assert.rejects(openProfile(newProfileKey(), 'u1', 3, sealed), bad);
    await assert.rejects(openProfile(key, 'u2', 3, sealed), bad, 'replayed as another user');
    await assert.rejects(openProfile(key, 'u1', 4, sealed), bad, 'replayed as a newer version');
    const flipped = Uint8Array.from(sealed);
    flipped[20]! ^= 1;
    await assert.rejects(openProfile(key, 'u1', 3, flipped), bad, 'tampered');
    await assert.rejects(openProfile(key, 'u1', 3, sealed.subarray(0, 10)), bad, 'truncated');
  });

  test('the ciphertext length does not depend on the name', async () => {
    const key = newProfileKey();
    const short = await sealProfile(key, 'u1', 1, { name: 'A', about: '' });
    const long = await sealProfile(key, 'u1', 1, { name: 'B'.repeat(64), about: 'c'.repeat(140), avatar });
    assert.equal(short.length, long.length);
    assert.equal(short.length, 1 + 12 + PROFILE_PAD_BYTES + 16);
  });

  test('names of 1-64 characters and abouts of up to 140 pass; others are INVALID_ARGUMENT', () => {
    const bad = { code: 'INVALID_ARGUMENT' };
    checkProfileContent({ name: '🦊'.repeat(64), about: 'é'.repeat(140) });
    assert.throws(() => checkProfileContent({ name: '', about: '' }), bad);
    assert.throws(() => checkProfileContent({ name: '   ', about: '' }), bad);
    assert.throws(() => checkProfileContent({ name: 'x'.repeat(65), about: '' }), bad);
    assert.throws(() => checkProfileContent({ name: 'x', about: 'y'.repeat(141) }), bad);
    assert.throws(() => checkProfileContent({ name: 'a\nb', about: '' }), bad, 'control characters');
    assert.throws(() => checkProfileContent({ name: 'ab', about: '\u0007' }), bad);
  });

  test('a profile key travels in message content and a bad one is refused', () => {
    const key = newProfileKey();
    const e = decodeEnvelope(encodeEnvelope({ control: 'profileKey', profileKey: key }));
    assert.deepEqual(e, { control: 'profileKey', profileKey: key });
    const short = new TextEncoder().encode(JSON.stringify({ v: 1, pk: btoa('short') }));
    assert.throws(() => decodeEnvelope(short), { code: 'INVALID_ARGUMENT' });
  });
});
