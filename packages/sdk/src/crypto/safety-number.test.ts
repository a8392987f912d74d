import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E2eError } from './errors.js';
import { SAFETY_NUMBER_VERSION, safetyNumber } from './safety-number.js';

const key = (seed: number) => {
  const bytes = new Uint8Array(33);
  bytes[0] = 5;
  for (let i = 1; i < 33; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
};

const alice = { userId: 'alice', identityKeys: [key(1), key(2)] };
const bob = { userId: 'bob', identityKeys: [key(3)] };

test('both users see the same 60 digits and the same QR payload', async () => {
  const fromAlice = await safetyNumber(alice, bob);
  const fromBob = await safetyNumber(bob, alice);
  assert.equal(fromAlice.digits, fromBob.digits);
  assert.deepEqual(fromAlice.qr, fromBob.qr);
  assert.match(fromAlice.digits, /^\d{5}( \d{5}){11}$/);
  assert.equal(fromAlice.qr.length, 61);
  assert.equal(fromAlice.qr[0], SAFETY_NUMBER_VERSION);
});

test('the order in which a user lists its devices does not matter', async () => {
  const reordered = { userId: 'alice', identityKeys: [key(2), key(1)] };
  assert.equal((await safetyNumber(reordered, bob)).digits, (await safetyNumber(alice, bob)).digits);
});

test('a device added on either side changes the number; only that user half changes', async () => {
  const before = await safetyNumber(alice, bob);
  const bobAdded = await safetyNumber(alice, { userId: 'bob', identityKeys: [key(3), key(4)] });
  assert.notEqual(bobAdded.digits, before.digits);
  assert.equal(bobAdded.digits.slice(0, 35), before.digits.slice(0, 35));
  const aliceAdded = await safetyNumber({ userId: 'alice', identityKeys: [key(1), key(2), key(5)] }, bob);
  assert.notEqual(aliceAdded.digits, before.digits);
  assert.equal(aliceAdded.digits.slice(36), before.digits.slice(36));
});

test('a replaced identity key or another user id changes the number', async () => {
  const before = (await safetyNumber(alice, bob)).digits;
  assert.notEqual((await safetyNumber(alice, { userId: 'bob', identityKeys: [key(9)] })).digits, before);
  assert.notEqual((await safetyNumber(alice, { userId: 'carol', identityKeys: [key(3)] })).digits, before);
});

test('a user without identity keys is an error', async () => {
  await assert.rejects(
    safetyNumber(alice, { userId: 'bob', identityKeys: [] }),
    (err) => err instanceof E2eError && err.code === 'INVALID_ARGUMENT',
  );
});
