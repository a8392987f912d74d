import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pooledRandomBytes, randomIds, sortableTime } from './ids.js';

it('ids are distinct and well formed across many pool refills', () => {
  const seen = new Set<string>();
  // 12 bytes each: 20,000 ids draw about 59 pools of 4 KiB.
  for (let i = 0; i < 20_000; i++) {
    const id = randomIds.chatId();
    assert.match(id, /^c_[A-Za-z0-9_-]{16}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
  assert.match(randomIds.userId(), /^u_[A-Za-z0-9_-]{16}$/);
  assert.match(randomIds.deviceId(), /^d_[A-Za-z0-9_-]{16}$/);
});

it('pooled bytes never repeat a slice, also where a draw does not fit the rest of the pool', () => {
  const draws: Buffer[] = [];
  for (let i = 0; i < 1000; i++) draws.push(Buffer.from(pooledRandomBytes(1 + (i % 50))));
  const big = pooledRandomBytes(10_000);
  assert.equal(big.length, 10_000);
  const hex = new Set(draws.filter((d) => d.length >= 8).map((d) => d.toString('hex')));
  assert.equal(hex.size, draws.filter((d) => d.length >= 8).length);
  // Not all zero: the bytes come from the generator.
  assert.ok(draws.some((d) => d.some((b) => b !== 0)));
});

it('chat ids begin with their creation time, so later ones sort after earlier ones', () => {
  const times = [0, 1, 63, 64, 4095, 4096, Date.UTC(2026, 11, 6), Date.UTC(2026, 11, 6) + 1, 2 ** 48 - 1];
  const texts = times.map(sortableTime);
  for (const t of texts) assert.match(t, /^[A-Za-z0-9_-]{8}$/);
  assert.deepEqual([...texts].sort(), texts, 'text order is time order');
  assert.equal(new Set(texts).size, times.length);
  const before = randomIds.chatId();
  const start = Date.now();
  while (Date.now() === start) {} // the next millisecond
  const later = randomIds.chatId();
  assert.ok(later > before, `${later} sorts after ${before}`);
});
