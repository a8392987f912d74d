import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { storeContract } from '../../../ports/store.contract.js';
import type { Store } from '../../../ports/store.js';
import { type ChatId, cursorList, type DeviceId, type UserId } from '../../../ports/types.js';
import { THREAD_NAMES } from '../../../thread-name.js';
import type { SqliteStore } from '../sqlite/sqlite-store.js';
import { receiptMarksIn } from '../sqlite/testing.js';
import { ownBuffers, SqliteWorkerStore } from './worker-store.js';

storeContract('SqliteWorkerStore (file, worker thread, mapped reader)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-'));
  const path = join(dir, 'parley.db');
  const store = SqliteWorkerStore.open({ path, readerMmapBytes: 64 * 1024 * 1024 });
  await store.ready;
  // The contract's reads then run on the reader thread.
  assert.equal(await (store as unknown as SqliteWorkerStore).readerReady, true);
  return {
    store,
    receiptMarks: (chat) => receiptMarksIn(path, chat),
    cleanup: async () => {
      // No read of the test failed the reader thread (the reads would still pass on the writer).
      assert.equal((store as unknown as SqliteWorkerStore).readerFailures, 0, 'the reader never failed');
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteWorkerStore reader thread', () => {
  it('reads the database file through a memory map only when readerMmapBytes is set', async () => {
    for (const mmap of [0, 64 * 1024 * 1024]) {
      const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-mmap-'));
      const path = join(dir, 'parley.db');
      const store = SqliteWorkerStore.open({ path, readerMmapBytes: mmap });
      await store.ready;
      assert.equal(await (store as unknown as SqliteWorkerStore).readerReady, true);
      // The schema moves from the log into the file, so the file has pages to map.
      const other = new Database(path);
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.close();
      // A read on the reader thread maps the file (threads share the process's address space).
      assert.equal((await store.usersExist(['nobody' as UserId])).size, 0);
      const mapped = (await readFile('/proc/self/maps', 'utf8')).split('\n').some((l) => l.endsWith(path));
      assert.equal(mapped, mmap > 0, `database file mapped with readerMmapBytes=${mmap}`);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a read asked after a write resolved sees that write, while other writes run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-'));
    const store = SqliteWorkerStore.open({ path: join(dir, 'parley.db') });
    try {
      await store.ready;
      assert.equal(await (store as unknown as SqliteWorkerStore).readerReady, true);
      const users = await twoUsers(store);
      for (let n = 0; n < 200; n++) {
        const chatId = `c${n}` as ChatId;
        // Another chat's creation is in flight on the writer meanwhile.
        const other = store.chatCreate(chatInput(`x${n}` as ChatId, users));
        await store.chatCreate(chatInput(chatId, users));
        const [chat, cursors] = await Promise.all([store.chatGet(chatId), store.cursorsOf('d1' as DeviceId)]);
        assert.equal(chat?.id, chatId);
        assert.ok(cursorList(cursors).some((c) => c.chatId === chatId));
        await other;
      }
      // Every read above ran on the reader, and it is still up.
      const worker = store as unknown as SqliteWorkerStore;
      assert.equal(worker.readerAnswering, true, 'the reader thread still answers reads');
      assert.ok(worker.readsOnReader >= 400, `${worker.readsOnReader} reads on the reader`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteWorkerStore thread names', () => {
  it('the writer, the reader and the checkpointer are named for the operating system', async (t) => {
    if (process.platform !== 'linux') return t.skip('thread names are set on Linux only');
    const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-names-'));
    const store = SqliteWorkerStore.open({ path: join(dir, 'parley.db'), backgroundCheckpointMs: 20 });
    try {
      await store.ready;
      assert.equal(await (store as unknown as SqliteWorkerStore).readerReady, true);
      // The checkpoint thread names itself as it starts; it has run once its stats move.
      const deadline = Date.now() + 30_000;
      const writer = store as unknown as Pick<SqliteStore, 'checkpointStats'>;
      while (!((await writer.checkpointStats())?.checkpoints ?? 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const names = await Promise.all(
        (await readdir('/proc/self/task')).map((tid) =>
          readFile(`/proc/self/task/${tid}/comm`, 'utf8').then(
            (n) => n.trim(),
            () => '',
          ),
        ),
      );
      for (const name of Object.values(THREAD_NAMES)) assert.ok(names.includes(name), `${name} in ${names}`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteWorkerStore bulk reads', () => {
  it('a point read asked behind many bulk reads is answered after at most two of them', async () => {
    await withChat(async (store) => {
      const order: string[] = [];
      const bulk = Array.from({ length: 50 }, (_, i) =>
        store.cursorsOf('d1' as DeviceId).then(() => order.push(`bulk${i}`)),
      );
      const point = store.deviceByTokenHash('t1').then((d) => order.push(`point:${d?.id}`));
      await Promise.all([...bulk, point]);
      assert.equal(order.length, 51);
      assert.ok(
        order.indexOf('point:d1') <= 2,
        `answered at ${order.indexOf('point:d1')}: ${order.slice(0, 4)}`,
      );
      // Bulk reads still come back in the order they were asked.
      assert.deepEqual(
        order.filter((o) => o.startsWith('bulk')),
        Array.from({ length: 50 }, (_, i) => `bulk${i}`),
      );
    });
  });

  it('bulk reads waiting their turn when the reader dies are answered by the writer', async () => {
    await withChat(async (store) => {
      const reader = (store as unknown as { reader: { worker: { terminate(): Promise<number> } } }).reader;
      const reads = Array.from({ length: 100 }, () => store.cursorsOf('d1' as DeviceId));
      await reader.worker.terminate();
      for (const cursors of await Promise.all(reads)) {
        assert.deepEqual(
          cursorList(cursors).map((c) => c.chatId),
          ['c'],
        );
      }
      assert.equal((store as unknown as SqliteWorkerStore).readerFailures, 1);
    });
  });
});

describe('SqliteWorkerStore ack flushes', () => {
  it('a message commit asked during a large ack flush is answered before the flush ends', async () => {
    await withChat(async (store) => {
      const [u1, u2] = ['u1', 'u2'] as UserId[];
      const chats = Array.from({ length: 400 }, (_, i) => `a${i}` as ChatId);
      await Promise.all(chats.map((id) => store.chatCreate(chatInput(id, [u1!, u2!]))));
      const commit = (chatId: ChatId, clientMessageId: string) =>
        store.messageCommit([
          {
            chatId,
            senderUserId: u1!,
            senderDeviceId: 'd0' as DeviceId,
            clientMessageId,
            serverTime: 3,
            payload: bytes(clientMessageId),
            devicePayloads: undefined,
          },
        ]);
      await Promise.all(chats.map((id) => commit(id, `m-${id}`)));
      const order: string[] = [];
      // u2's phone acks every chat's message (seq 2) in one flush, and u1 sends meanwhile.
      const acks = chats.map((chatId) => ({ deviceId: 'd1' as DeviceId, userId: u2!, chatId, seq: 2 }));
      const flushed = store.acksPersist(acks, 4).then((changes) => {
        order.push('acks');
        return changes;
      });
      const sent = commit('c' as ChatId, 'during').then((r) => {
        order.push('commit');
        return r;
      });
      const [changes, [result]] = await Promise.all([flushed, sent]);
      assert.deepEqual(order, ['commit', 'acks']);
      assert.equal(result?.ok, true);
      assert.equal(changes.length, chats.length, 'every member position moved');
      const cursors = cursorList(await store.cursorsOf('d1' as DeviceId));
      assert.equal(cursors.filter((c) => c.chatId.startsWith('a') && c.ackedSeq === 2).length, chats.length);
    });
  });
});

describe('SqliteWorkerStore reader thread failure', () => {
  it('reads in flight on a reader that dies are answered by the writer, and later reads go there too', async () => {
    await withChat(async (store) => {
      // The reader is private: reach its worker the way a crash would, from outside.
      const reader = (store as unknown as { reader: { worker: { terminate(): Promise<number> } } }).reader;
      const reads = Array.from({ length: 200 }, () => store.chatGet('c' as ChatId));
      await reader.worker.terminate();
      for (const chat of await Promise.all(reads)) assert.equal(chat?.id, 'c');
      assert.equal((store as unknown as SqliteWorkerStore).readerFailures, 1);
      assert.equal((await store.chatGet('c' as ChatId))?.members.length, 2);
    });
  });
});

/** A worker store with its reader up, users u1 and u2 and their group chat `c`; closed after `fn`. */
async function withChat(fn: (store: Store & SqliteWorkerStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-'));
  const store = SqliteWorkerStore.open({ path: join(dir, 'parley.db') }) as Store & SqliteWorkerStore;
  try {
    await store.ready;
    assert.equal(await store.readerReady, true);
    await store.chatCreate(chatInput('c' as ChatId, await twoUsers(store)));
    await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

/** Registers users u1 and u2 (devices d0 and d1). */
async function twoUsers(store: Store): Promise<UserId[]> {
  const users = ['u1', 'u2'] as UserId[];
  for (const [i, userId] of users.entries()) {
    await store.primaryRegister({
      userId,
      phone: `+1555000000${i}`,
      phoneHash: bytes(`h${i}`),
      deviceId: `d${i}` as DeviceId,
      tokenHash: `t${i}`,
      name: 'phone',
      now: 1,
    });
  }
  return users;
}

function chatInput(chatId: ChatId, users: UserId[]) {
  return {
    chatId,
    kind: 'group' as const,
    name: 'g',
    description: '',
    createdBy: users[0]!,
    createdByDevice: 'd0' as DeviceId,
    members: users.map((userId, i) => ({
      userId,
      role: i === 0 ? ('creator' as const) : ('member' as const),
    })),
    now: 2,
    update: bytes('created'),
  };
}

describe('ownBuffers (what a call posts to the store thread)', () => {
  it('gives each view into a larger buffer a buffer of its own, leaving the caller’s objects as they are', () => {
    const read = new Uint8Array(64 * 1024).fill(7); // one socket read holding many frames
    const payload = read.subarray(1000, 1100);
    const device = read.subarray(2000, 2010);
    const whole = new Uint8Array([1, 2, 3]);
    const item = { chatId: 'c', payload, devicePayloads: new Map([['d', device]]), whole, n: 1 };
    const args = [[item]];
    const out = ownBuffers(args) as [[typeof item]];
    const posted = out[0][0];
    assert.equal(posted.payload.buffer.byteLength, 100, 'the payload alone, not the 64 KiB read');
    assert.deepEqual([...posted.payload], [...payload]);
    assert.equal(posted.devicePayloads.get('d')!.buffer.byteLength, 10);
    assert.equal(posted.whole, whole, 'a view of its whole buffer is posted as it is');
    assert.equal(posted.n, 1);
    assert.equal(item.payload, payload, 'the caller keeps its view');
    assert.equal(item.payload.buffer.byteLength, 64 * 1024);
    // Nothing to copy: the same objects go through.
    const plain = [{ chatId: 'c', seq: 1 }, 'x', 3];
    assert.equal(ownBuffers(plain), plain);
  });
});
