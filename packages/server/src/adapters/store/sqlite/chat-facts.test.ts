import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatFactsCache, isMember } from './chat-facts.js';

function store() {
  const chats = new Map<string, { userIds: string[]; timer: number }>();
  const reads: string[] = [];
  const read = (chatId: string) => {
    reads.push(chatId);
    const c = chats.get(chatId);
    // A fresh copy each time, as rows from the database are.
    return c && { userIds: c.userIds.map((u) => `${u}`.slice(0)), timer: c.timer };
  };
  return { chats, reads, read };
}

test('a chat is read once, until it is forgotten', () => {
  const s = store();
  s.chats.set('c1', { userIds: ['a', 'b'], timer: 0 });
  const cache = new ChatFactsCache(s.read);
  assert.ok(isMember(cache.get('c1')!.members, 'a'));
  assert.ok(!isMember(cache.get('c1')!.members, 'z'));
  assert.deepEqual(s.reads, ['c1']);
  s.chats.set('c1', { userIds: ['a', 'b', 'c'], timer: 60 });
  cache.forget('c1');
  const f = cache.get('c1')!;
  assert.ok(isMember(f.members, 'c'));
  assert.equal(f.timer, 60);
  assert.deepEqual(s.reads, ['c1', 'c1']);
});

test('an unknown chat is undefined and not remembered', () => {
  const s = store();
  const cache = new ChatFactsCache(s.read);
  assert.equal(cache.get('nope'), undefined);
  assert.equal(cache.get('nope'), undefined);
  assert.equal(cache.size, 0);
  assert.deepEqual(s.reads, ['nope', 'nope']);
});

test('large chats are sets; membership answers the same either way', () => {
  const s = store();
  const many = Array.from({ length: 40 }, (_, i) => `u${i}`);
  s.chats.set('big', { userIds: many, timer: 0 });
  const cache = new ChatFactsCache(s.read);
  const f = cache.get('big')!;
  assert.ok(f.members instanceof Set);
  for (const u of many) assert.ok(isMember(f.members, u));
  assert.ok(!isMember(f.members, 'u40'));
});

test('when full, the oldest tenth goes and the newest stay', () => {
  const s = store();
  for (let i = 0; i < 30; i++) s.chats.set(`c${i}`, { userIds: ['a', 'b'], timer: 0 });
  const cache = new ChatFactsCache(s.read, 20);
  for (let i = 0; i < 30; i++) cache.get(`c${i}`);
  assert.ok(cache.size <= 20);
  s.reads.length = 0;
  cache.get('c29');
  cache.get('c25');
  assert.deepEqual(s.reads, [], 'the newest entries are still held');
  cache.get('c0');
  assert.deepEqual(s.reads, ['c0'], 'the oldest was dropped');
});
