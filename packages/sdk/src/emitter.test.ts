import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedEmitter } from './emitter.js';

type Events = { tick: [number]; done: [] };

class Probe extends TypedEmitter<Events> {
  errors: unknown[] = [];
  constructor() {
    super();
    this.onListenerError = (err) => this.errors.push(err);
  }
  fire(n: number) {
    this.emit('tick', n);
  }
  fireAndWait(n: number) {
    return this.emitAndWait('tick', n);
  }
}

test('listeners get arguments; off and the returned unsubscribe remove them', () => {
  const p = new Probe();
  const seen: number[] = [];
  const off = p.on('tick', (n) => {
    seen.push(n);
  });
  p.fire(1);
  off();
  p.fire(2);
  assert.deepEqual(seen, [1]);
  assert.equal(p.listenerCount('tick'), 0);
});

test('once fires a single time', () => {
  const p = new Probe();
  let count = 0;
  p.once('tick', () => {
    count++;
  });
  p.fire(1);
  p.fire(2);
  assert.equal(count, 1);
});

test('a throwing listener does not stop the others and is reported', () => {
  const p = new Probe();
  const seen: number[] = [];
  p.on('tick', () => {
    throw new Error('boom');
  });
  p.on('tick', (n) => {
    seen.push(n);
  });
  p.fire(7);
  assert.deepEqual(seen, [7]);
  assert.equal(p.errors.length, 1);
});

test('emitAndWait waits for async listeners, and reports their rejections', async () => {
  const p = new Probe();
  let finished = false;
  p.on('tick', async () => {
    await new Promise((r) => setTimeout(r, 10));
    finished = true;
  });
  p.on('tick', async () => {
    throw new Error('async boom');
  });
  await p.fireAndWait(1);
  assert.equal(finished, true);
  assert.equal(p.errors.length, 1);
});
