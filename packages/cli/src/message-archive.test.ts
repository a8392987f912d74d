import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKeyValueStore } from '@parley/sdk';
import { MessageArchive } from './message-archive.js';
import { type LogEntry, type LogInput, MessageLog } from './message-log.js';

function input(seq: number, text: string, extra: Partial<LogInput> = {}): LogInput {
  return {
    chatId: 'c1',
    seq,
    senderUserId: 'bob',
    text,
    meta: { type: 'message', refSeq: 0, reaction: '', mentions: [], forwardCount: 0 },
    forwardedMany: false,
    deleted: false,
    ...extra,
  };
}

function entry(log: MessageLog, m: LogInput): LogEntry {
  const effect = log.apply(m);
  assert.ok(effect.kind === 'message' && effect.entry);
  return effect.entry;
}

test('a kept message loads back as it stood, with its file pointer, reactions and edits', async () => {
  const archive = new MessageArchive(new MemoryKeyValueStore());
  const log = new MessageLog('me');
  const pointer = {
    mediaId: 'b'.repeat(64),
    key: Uint8Array.from({ length: 64 }, (_, i) => i),
    digest: Uint8Array.from({ length: 32 }, (_, i) => 255 - i),
    size: 42,
    name: 'a.txt',
    mime: 'text/plain',
  };
  const e = entry(
    log,
    input(2, 'caption', { file: { name: 'a.txt', mime: 'text/plain', size: 42, pointer }, expiresAt: 5000 }),
  );
  e.reactions.set('carol', '👍');
  e.edited = true;
  e.status = 'read';
  await archive.save(e);
  const [back] = await archive.load('c1', 1000);
  // The status is this run's view of receipts: not kept.
  const { status: _, ...expected } = e;
  assert.deepEqual(back, expected);
  assert.deepEqual(await archive.load('other', 1000), []);
});

test('view-once messages are never kept; expired ones and unreadable values are dropped', async () => {
  const kv = new MemoryKeyValueStore();
  const archive = new MessageArchive(kv);
  const log = new MessageLog('me');
  await archive.save(entry(log, input(2, 'secret', { meta: { ...input(0, '').meta, viewOnce: true } })));
  await archive.save(entry(log, input(3, 'gone soon', { expiresAt: 2000 })));
  await archive.save(entry(log, input(4, 'stays')));
  await kv.put('chat:c1', '0000000000000009', new TextEncoder().encode('not json'));
  assert.deepEqual(
    (await archive.load('c1', 1999)).map((x) => x.seq),
    [3, 4],
  );
  assert.deepEqual(
    (await archive.load('c1', 2000)).map((x) => x.seq),
    [4],
  );
  assert.deepEqual(await kv.keys('chat:c1'), ['0000000000000004'], 'dropped from the store too');
  await archive.remove('c1', 4);
  assert.deepEqual(await archive.load('c1', 0), []);
});

test('a deleted message is kept without its content; the oldest go beyond the limit', async () => {
  const archive = new MessageArchive(new MemoryKeyValueStore(), 3);
  const log = new MessageLog('me');
  for (const seq of [2, 3, 10, 11]) await archive.save(entry(log, input(seq, `m${seq}`)));
  assert.deepEqual(
    (await archive.load('c1', 0)).map((x) => x.seq),
    [3, 10, 11],
  );
  const del = log.apply(input(12, '', { meta: { ...input(0, '').meta, type: 'delete', refSeq: 10 } }));
  assert.ok(del.entry);
  await archive.save(del.entry);
  const kept = (await archive.load('c1', 0)).find((x) => x.seq === 10)!;
  assert.deepEqual([kept.deleted, kept.text, kept.file], [true, '', undefined]);
});

test('a kept photo keeps what its pointer tells: dimensions, duration, thumbnail and blurhash', async () => {
  const archive = new MessageArchive(new MemoryKeyValueStore());
  const log = new MessageLog('me');
  const pointer = {
    mediaId: 'c'.repeat(64),
    key: new Uint8Array(64).fill(3),
    digest: new Uint8Array(32).fill(4),
    size: 2_000_000,
    name: 'photo.jpg',
    mime: 'image/jpeg',
    width: 4032,
    height: 3024,
    blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
    thumbnail: {
      bytes: Uint8Array.of(0xff, 0xd8, 0xff, 1, 2),
      mime: 'image/jpeg' as const,
      width: 320,
      height: 240,
    },
  };
  const file = { name: 'photo.jpg', mime: 'image/jpeg', size: 2_000_000, pointer };
  const preview = { width: 4032, height: 3024, thumbnail: { width: 320, height: 240 } };
  await archive.save(entry(log, input(3, '', { file: { ...file, preview } })));
  const [back] = await archive.load('c1', 0);
  assert.deepEqual(back?.file, { ...file, preview });
});
