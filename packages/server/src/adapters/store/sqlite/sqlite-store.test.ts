import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { storeContract } from '../../../ports/store.contract.js';
import { addUser, chatInput, sendItem } from '../../../ports/store-fixtures.js';
import { type ChatId, cursorList, type DeviceId, type UserId } from '../../../ports/types.js';
import { SqliteStore } from './sqlite-store.js';
import { receiptMarksIn } from './testing.js';

/** A fresh directory for one store file, removed by `cleanup`. */
async function tempFile(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-'));
  return { path: join(dir, 'parley.db'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

storeContract('SqliteStore (file)', async () => {
  const { path, cleanup } = await tempFile();
  return { store: new SqliteStore({ path }), cleanup, receiptMarks: (chat) => receiptMarksIn(path, chat) };
});

storeContract('SqliteStore (:memory:)', async () => ({ store: new SqliteStore({ path: ':memory:' }) }));

const bytes = (s: string) => new TextEncoder().encode(s);
const u1 = 'user-1' as UserId;
const d1 = 'user-1/phone' as DeviceId;
const d2 = 'user-1/laptop' as DeviceId;
const g = 'g' as ChatId;

/** One user with two devices, a chat, one shared and one per-device message. */
async function seed(store: SqliteStore): Promise<void> {
  await store.primaryRegister({
    userId: u1,
    phone: '+15550000001',
    phoneHash: bytes('hash-1'),
    deviceId: d1,
    tokenHash: 'token-1',
    name: 'phone',
    now: 1,
  });
  await store.deviceLink({
    userId: u1,
    deviceId: d2,
    tokenHash: 'token-2',
    name: 'laptop',
    now: 2,
    maxDevices: 4,
  });
  const members = [{ userId: u1, role: 'creator' as const }];
  await store.chatCreate({
    chatId: g,
    kind: 'group',
    name: 'notes',
    description: '',
    createdBy: u1,
    createdByDevice: d1,
    members,
    now: 3,
    update: bytes('created'),
  });
  const common = { chatId: g, senderUserId: u1, senderDeviceId: d1, serverTime: 4 };
  await store.messageCommit([
    { ...common, clientMessageId: 'm1', payload: bytes('shared'), devicePayloads: undefined },
    {
      ...common,
      clientMessageId: 'm2',
      payload: undefined,
      devicePayloads: new Map([[d2, bytes('for laptop')]]),
    },
  ]);
  await store.cursorsAck([{ deviceId: d2, chatId: g, seq: 2 }]);
}

describe('SqliteStore', () => {
  it('a file store runs in WAL mode with synchronous=FULL by default', async () => {
    const { path, cleanup } = await tempFile();
    const store = new SqliteStore({ path });
    try {
      assert.equal(store.synchronous, 'FULL');
      await seed(store);
      // journal_mode=WAL is a property of the file: another connection sees it.
      const other = new Database(path, { readonly: true });
      try {
        assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        other.close();
      }
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("a chat whose newest messages expired goes on counting from its last seq after a restart (023's trigger)", async () => {
    const { path, cleanup } = await tempFile();
    try {
      const first = new SqliteStore({ path });
      const [a, b] = [await addUser(first, 1), await addUser(first, 2)];
      const send = (store: SqliteStore, chat: string, clientMessageId: string, serverTime: number) =>
        store.messageCommit([
          {
            chatId: chat as ChatId,
            senderUserId: a.userId,
            senderDeviceId: a.deviceId,
            clientMessageId,
            serverTime,
            payload: bytes('hi'),
            devicePayloads: undefined,
          },
        ]);
      for (const chat of ['kept', 'bare']) {
        await first.chatCreate(chatInput(chat, a, [b]));
        for (const n of [1, 2, 3]) await send(first, chat, `${chat}-${n}`, 10);
      }
      await first.close();
      // The negative control: without the trigger, a chat's floor is what it was at creation.
      const raw = new Database(path);
      raw.exec('DROP TRIGGER messages_keep_last_seq');
      raw.prepare("DELETE FROM messages WHERE chat_id = 'bare'").run();
      raw.exec((await import('./migrations/023_last_seq_from_messages.js')).sql);
      raw.close();
      const second = new SqliteStore({ path });
      try {
        assert.equal(await second.messagesExpire(20, 100), 3, "the chat 'kept' loses its three messages");
        assert.equal(
          (await second.chatGet('kept' as ChatId))?.lastSeq,
          4,
          'the CREATED update and three messages',
        );
      } finally {
        await second.close();
      }
      const third = new SqliteStore({ path });
      try {
        assert.equal((await third.chatGet('kept' as ChatId))?.lastSeq, 4);
        assert.deepEqual(
          (await send(third, 'kept', 'kept-4', 30)).map((r) => r.ok && r.seq),
          [5],
          'never a seq given before',
        );
        assert.deepEqual(
          (await send(third, 'bare', 'bare-4', 30)).map((r) => r.ok && r.seq),
          [2],
          'with its rows deleted without the trigger, seq 2 is given a second time',
        );
      } finally {
        await third.close();
      }
    } finally {
      await cleanup();
    }
  });

  it("migrations 016 and 017 give each member the times of its own and of the others' last receipt moves", async () => {
    const { path, cleanup } = await tempFile();
    try {
      const first = new SqliteStore({ path });
      const [a, b] = [await addUser(first, 1), await addUser(first, 2)];
      await first.chatCreate(chatInput('m', a, [b]));
      await first.messageCommit([
        {
          chatId: 'm' as ChatId,
          senderUserId: a.userId,
          senderDeviceId: a.deviceId,
          clientMessageId: 'x',
          serverTime: 5,
          payload: bytes('hi'),
          devicePayloads: undefined,
        },
      ]);
      await first.receiptsDelivered([{ chatId: 'm' as ChatId, userId: b.userId, seq: 2 }], 50);
      await first.close();
      // Back to the schema before 016: no receipt_at, the marks' time index, version 15 (and
      // without what later migrations added: 019's mute columns, 020's push preview, 021's
      // media references, 022's user stamp, 023's trigger).
      const raw = new Database(path);
      raw.exec(
        'ALTER TABLE members DROP COLUMN sent_receipt_at; ALTER TABLE members DROP COLUMN receipt_at; CREATE INDEX receipt_marks_at ON receipt_marks(chat_id, at)',
      );
      raw.exec('ALTER TABLE members DROP COLUMN muted_until; ALTER TABLE users DROP COLUMN dnd_until');
      raw.exec('ALTER TABLE users DROP COLUMN sent_receipt_at');
      raw.exec('ALTER TABLE push_jobs DROP COLUMN preview');
      raw.exec('DROP TABLE media_refs; DROP INDEX chats_icon; ALTER TABLE media_uploads DROP COLUMN avatar');
      raw.exec('DROP TRIGGER messages_keep_last_seq');
      raw.pragma('user_version = 15');
      raw.close();
      const second = new SqliteStore({ path });
      try {
        assert.deepEqual(await second.receiptsSince(a.userId, 10), [
          { chatId: 'm', userId: b.userId, deliveredSeq: 2, readSeq: 0, at: 50 },
        ]);
        assert.deepEqual(await second.receiptsSince(a.userId, 50), []);
      } finally {
        await second.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('reopening the same file keeps users, devices, chats, messages and cursors', async () => {
    const { path, cleanup } = await tempFile();
    try {
      const first = new SqliteStore({ path });
      await seed(first);
      await first.close();

      const store = new SqliteStore({ path });
      try {
        assert.equal((await store.userByPhone('+15550000001'))?.id, u1);
        assert.equal((await store.deviceByTokenHash('token-2'))?.id, d2);
        const chat = await store.chatGet(g);
        assert.deepEqual([chat?.name, chat?.lastSeq, chat?.members.map((m) => m.userId)], ['notes', 3, [u1]]);
        const read = await store.messagesRead(d2, g, 0, 3, 10);
        assert.deepEqual(
          read.map((m) => [m.seq, m.kind, new TextDecoder().decode(m.body)]),
          [
            [1, 'update', 'created'],
            [2, 'payload', 'shared'],
            [3, 'payload', 'for laptop'],
          ],
        );
        const cursors = cursorList(await store.cursorsOf(d2));
        assert.deepEqual(
          cursors.map((c) => [c.chatId, c.ackedSeq, c.lastSeq]),
          [[g, 2, 3]],
        );
        // Idempotency survives the restart too.
        const [again] = await store.messageCommit([
          {
            chatId: g,
            senderUserId: u1,
            senderDeviceId: d1,
            serverTime: 9,
            clientMessageId: 'm1',
            payload: bytes('x'),
            devicePayloads: undefined,
          },
        ]);
        assert.deepEqual(again, { ok: true, seq: 2, serverTime: 4, duplicate: true });
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('with background checkpoints a worker copies the log into the database file; without, commits below the threshold leave it in the log', async () => {
    /** Messages found in the database file alone (a copy without its -wal file). */
    const inMainFile = async (path: string): Promise<number> => {
      await copyFile(path, `${path}.copy`);
      const db = new Database(`${path}.copy`);
      try {
        // Before any checkpoint even the schema is only in the log.
        const made = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages'").get();
        return made ? (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n : 0;
      } finally {
        db.close();
      }
    };
    for (const background of [true, false]) {
      const { path, cleanup } = await tempFile();
      const store = new SqliteStore({ path, ...(background && { backgroundCheckpointMs: 20 }) });
      try {
        await seed(store);
        if (background) {
          const t0 = Date.now();
          while (!((await store.checkpointStats())?.frames ?? 0) && Date.now() - t0 < 30_000) {
            await new Promise((r) => setTimeout(r, 20));
          }
          const stats = await store.checkpointStats();
          assert.ok(stats && stats.frames > 0 && stats.failures === 0, JSON.stringify(stats));
          assert.equal(await inMainFile(path), 3);
        } else {
          assert.equal(await store.checkpointStats(), undefined);
          assert.equal(await inMainFile(path), 0, 'the control: nothing checkpointed the log');
        }
      } finally {
        await store.close();
        await cleanup();
      }
    }
  });

  it('migration 024 removes the receipt marks that earlier expiries left behind, and only those', async () => {
    const { path, cleanup } = await tempFile();
    try {
      const store = new SqliteStore({ path });
      const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
      for (const chat of ['old', 'gone']) {
        await store.chatCreate(chatInput(chat, a, [b]));
        for (const n of [1, 2, 3])
          await store.messageCommit([sendItem(chat, a, `${chat}-${n}`, { serverTime: n })]);
        for (const seq of [2, 3, 4])
          await store.receiptsDelivered([{ chatId: chat as ChatId, userId: b.userId, seq }], 10 + seq);
      }
      await store.close();
      // As an expiry before 024 left them: 'old' lost seqs 1-2, 'gone' every message; the marks stayed.
      const raw = new Database(path);
      raw.prepare("DELETE FROM messages WHERE chat_id = 'old' AND seq <= 2").run();
      raw.prepare("DELETE FROM messages WHERE chat_id = 'gone'").run();
      raw.pragma('user_version = 23');
      raw.close();
      assert.deepEqual(await receiptMarksIn(path, 'old' as ChatId), ['1:2', '1:3', '1:4']);
      assert.deepEqual(await receiptMarksIn(path, 'gone' as ChatId), ['1:2', '1:3', '1:4']);
      const migrated = new SqliteStore({ path });
      await migrated.close();
      assert.deepEqual(await receiptMarksIn(path, 'old' as ChatId), ['1:3', '1:4'], 'seqs 3 and 4 are kept');
      assert.deepEqual(await receiptMarksIn(path, 'gone' as ChatId), []);
    } finally {
      await cleanup();
    }
  });

  it('messagesExpire leaves no per-device payload rows behind', async () => {
    const { path, cleanup } = await tempFile();
    try {
      const store = new SqliteStore({ path });
      await seed(store);
      assert.equal(await store.messagesExpire(5, 100), 3);
      await store.close();
      const db = new Database(path, { readonly: true });
      try {
        const count = (table: string) =>
          (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        assert.equal(count('messages'), 0);
        assert.equal(count('message_payloads'), 0);
      } finally {
        db.close();
      }
    } finally {
      await cleanup();
    }
  });
});
