import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base64url, FrameIdAllocator, newClientMessageId } from './ids.js';

test('frame ids start at 1 and increase', () => {
  const ids = new FrameIdAllocator();
  assert.deepEqual([ids.next(() => false), ids.next(() => false), ids.next(() => false)], [1, 2, 3]);
});

test('frame ids wrap from 2^32-1 to 1, never 0', () => {
  const ids = new FrameIdAllocator(0xffff_fffe);
  assert.deepEqual([ids.next(() => false), ids.next(() => false)], [0xffff_ffff, 1]);
});

test('frame ids skip ids still in use', () => {
  const ids = new FrameIdAllocator();
  const inUse = new Set([1, 2, 4]);
  assert.deepEqual([ids.next((i) => inUse.has(i)), ids.next((i) => inUse.has(i))], [3, 5]);
});

test('clientMessageIds are 22 base64url characters and differ', () => {
  const a = newClientMessageId();
  const b = newClientMessageId();
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(a, b);
});

test('base64url has no padding and uses - and _', () => {
  assert.equal(base64url(new Uint8Array([0xfb, 0xff, 0xbf])), '-_-_');
  assert.equal(base64url(new Uint8Array([1])), 'AQ');
});
