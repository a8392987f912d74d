import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { agree, generateKeyPair, publicKeyOf, sign, verify } from './xeddsa.js';

const message = new TextEncoder().encode('a signed prekey, say');

test('libsignal signatures verify here, and tampered ones do not', () => {
  for (let i = 0; i < 8; i++) {
    const key = PrivateKey.generate();
    const publicKey = key.getPublicKey().serialize();
    const signature = key.sign(message);
    assert.equal(verify(publicKey, message, signature), true);
    const flipped = signature.slice();
    flipped[5]! ^= 1;
    assert.equal(verify(publicKey, message, flipped), false);
    assert.equal(verify(publicKey, new TextEncoder().encode('another'), signature), false);
    assert.equal(verify(PrivateKey.generate().getPublicKey().serialize(), message, signature), false);
  }
});

test('signatures made here verify in libsignal, with keys of either Edwards sign', () => {
  for (let i = 0; i < 8; i++) {
    const pair = generateKeyPair();
    const signature = sign(pair.privateKey, message);
    assert.equal(PublicKey.deserialize(new Uint8Array(pair.publicKey)).verify(message, signature), true);
    assert.equal(verify(pair.publicKey, message, signature), true);
    const libsignalKey = PrivateKey.deserialize(new Uint8Array(pair.privateKey));
    assert.deepEqual(libsignalKey.getPublicKey().serialize(), pair.publicKey);
    assert.deepEqual(publicKeyOf(libsignalKey.serialize()), pair.publicKey);
  }
});

test('X25519 agreement matches libsignal both ways', () => {
  const ours = generateKeyPair();
  const theirs = PrivateKey.generate();
  const here = agree(ours.privateKey, theirs.getPublicKey().serialize());
  const there = theirs.agree(PublicKey.deserialize(new Uint8Array(ours.publicKey)));
  assert.deepEqual(here, there);
});
