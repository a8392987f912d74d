/**
 * The Store contract against a real PostgreSQL (PARLEY_TEST_POSTGRES_URL), each test in a
 * fresh schema dropped afterwards; then what only a shared database can show: several
 * stores (= nodes, each with its own pool) writing the same chats at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { storeContract } from '../../../ports/store.contract.js';
import type { SendCommit } from '../../../ports/store.js';
import { type ChatId, cursorList, type DeviceId, type UserId } from '../../../ports/types.js';
import { createPool } from './db.js';
import { migrations } from './migrate.js';
import { migrate, PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { dropSchema as dropTestSchema, freshSchema, receiptMarksIn } from './testing.js';

const url = process.env.PARLEY_TEST_POSTGRES_URL;
const skipReason = 'PARLEY_TEST_POSTGRES_URL is not set';

const dropSchema = (schema: string) => dropTestSchema(url!, schema);

/** `url` with extra startup options (e.g. `-c synchronous_commit=off`) for every connection. */
function withOptions(base: string, options: string): string {
  const u = new URL(base);
  u.searchParams.set('options', options);
  return u.toString();
}

if (url === undefined) {
  console.log(`PostgresStore tests skipped: ${skipReason}`);
  describe('PostgresStore', { skip: skipReason }, () => {});
} else {
  const pgUrl = url;

  storeContract('PostgresStore', async () => {
    const schema = freshSchema();
    const store = await PostgresStore.open(pgUrl, { schema, poolSize: 4 });
    return {
      store,
      cleanup: () => dropSchema(schema),
      receiptMarks: (chat) => receiptMarksIn(pgUrl, schema, chat),
    };
  });

  describe('PostgresStore on a shared database', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    const chat = 'g' as ChatId;
    let schema: string;
    let nodes: PostgresStore[] = [];

    /** `count` stores on one fresh schema; users 1..`users` in chat g, each with one device. */
    async function cluster(count: number, users: number, options: PostgresStoreOptions = {}) {
      schema = freshSchema();
      nodes = await Promise.all(
        Array.from({ length: count }, () => PostgresStore.open(pgUrl, { schema, poolSize: 4, ...options })),
      );
      const first = nodes[0]!;
      const accounts = [];
      for (let n = 1; n <= users; n++) {
        const userId = `user-${n}` as UserId;
        const deviceId = `${userId}/phone` as DeviceId;
        await first.primaryRegister({
          userId,
          phone: `+1555000${String(n).padStart(4, '0')}`,
          phoneHash: bytes(`hash-${n}`),
          deviceId,
          tokenHash: `token-${n}`,
          name: 'phone',
          now: 1,
        });
        accounts.push({ userId, deviceId });
      }
      await first.chatCreate({
        chatId: chat,
        kind: 'group',
        name: 'g',
        description: '',
        createdBy: accounts[0]!.userId,
        createdByDevice: accounts[0]!.deviceId,
        members: accounts.map((a, i) => ({ userId: a.userId, role: i === 0 ? 'creator' : 'member' })),
        now: 1,
        update: bytes('created'),
      });
      return accounts;
    }

    const send = (from: { userId: UserId; deviceId: DeviceId }, clientMessageId: string): SendCommit => ({
      chatId: chat,
      senderUserId: from.userId,
      senderDeviceId: from.deviceId,
      clientMessageId,
      serverTime: 2,
      payload: bytes(clientMessageId),
      devicePayloads: undefined,
    });

    before(() => {
      nodes = [];
    });

    const closeAll = async () => {
      await Promise.all(nodes.map((n) => n.close()));
      nodes = [];
      if (schema) await dropSchema(schema);
    };
    after(closeAll);

    it('interleaved batches from two nodes get seqs 1..N with no gap or repeat, each sender in its order', async () => {
      try {
        const [a, b] = await cluster(2, 2);
        const batches = 20;
        const perBatch = 25;
        const run = async (node: PostgresStore, who: { userId: UserId; deviceId: DeviceId }) => {
          for (let i = 0; i < batches; i++) {
            const items = Array.from({ length: perBatch }, (_, j) =>
              send(who, `${who.userId}-${i * perBatch + j}`),
            );
            const results = await node.messageCommit(items);
            assert.ok(results.every((r) => r.ok && !r.duplicate));
          }
        };
        await Promise.all([run(nodes[0]!, a!), run(nodes[1]!, b!)]);
        const total = 1 + 2 * batches * perBatch;
        const stored = await nodes[0]!.messagesRead(a!.deviceId, chat, 0, total + 10, total + 10);
        assert.deepEqual(
          stored.map((m) => m.seq),
          Array.from({ length: total }, (_, i) => i + 1),
        );
        assert.equal((await nodes[1]!.chatGet(chat))?.lastSeq, total);
        const sends = stored.filter((m) => m.kind === 'payload');
        const switches = sends.filter(
          (m, i) => i > 0 && m.senderUserId !== sends[i - 1]!.senderUserId,
        ).length;
        assert.ok(switches >= 2, `the two nodes' batches interleaved (${switches} switches)`);
        for (const who of [a!, b!]) {
          const mine = sends.filter((m) => m.senderUserId === who.userId).map((m) => m.clientMessageId);
          assert.deepEqual(
            mine,
            Array.from({ length: batches * perBatch }, (_, i) => `${who.userId}-${i}`),
            `${who.userId}'s messages are stored in send order`,
          );
        }
      } finally {
        await closeAll();
      }
    });

    it('the same clientMessageId committed by three nodes at once is stored once', async () => {
      try {
        const [a] = await cluster(3, 1);
        const rounds = 30;
        for (let i = 0; i < rounds; i++) {
          const results = await Promise.all(nodes.map((n) => n.messageCommit([send(a!, `dup-${i}`)])));
          const flat = results.flat();
          assert.ok(flat.every((r) => r.ok));
          const seqs = new Set(flat.map((r) => (r.ok ? r.seq : -1)));
          assert.equal(seqs.size, 1, 'every node answers with the same seq');
          assert.equal(flat.filter((r) => r.ok && !r.duplicate).length, 1, 'exactly one stored it');
        }
        const stored = await nodes[0]!.messagesRead(a!.deviceId, chat, 1, 1000, 1000);
        assert.equal(stored.length, rounds);
        assert.equal((await nodes[0]!.chatGet(chat))?.lastSeq, rounds + 1, 'no seq was consumed by a repeat');
      } finally {
        await closeAll();
      }
    });

    it('one clientMessageId sent to two chats through two nodes at once is stored once, with no seq gap', async () => {
      try {
        const [a] = await cluster(2, 1);
        const other = 'h' as ChatId;
        await nodes[0]!.chatCreate({
          chatId: other,
          kind: 'group',
          name: 'h',
          description: '',
          createdBy: a!.userId,
          createdByDevice: a!.deviceId,
          members: [{ userId: a!.userId, role: 'creator' }],
          now: 1,
          update: bytes('created'),
        });
        const rounds = 30;
        for (let i = 0; i < rounds; i++) {
          const [[r1], [r2]] = await Promise.all([
            nodes[0]!.messageCommit([send(a!, `x-${i}`)]),
            nodes[1]!.messageCommit([{ ...send(a!, `x-${i}`), chatId: other }]),
          ]);
          assert.ok(r1?.ok && r2?.ok);
          assert.equal(r1.seq, r2.seq, 'the repeat answers with the first result');
          assert.equal([r1, r2].filter((r) => r.duplicate).length, 1);
        }
        let stored = 0;
        for (const id of [chat, other]) {
          const c = await nodes[1]!.chatGet(id);
          const seqs = (await nodes[1]!.messagesRead(a!.deviceId, id, 0, 1000, 1000)).map((m) => m.seq);
          assert.deepEqual(
            seqs,
            Array.from({ length: c!.lastSeq }, (_, i) => i + 1),
            `chat ${id} has no gap`,
          );
          stored += seqs.length - 1;
        }
        assert.equal(stored, rounds);
      } finally {
        await closeAll();
      }
    });

    it('a send racing its sender\u2019s removal on another node is stored before the removal or refused', async () => {
      try {
        const [a, b] = await cluster(2, 2);
        const change = (
          now: number,
          c: { removeUserIds?: UserId[]; addMembers?: { userId: UserId; role: 'member' }[] },
        ) =>
          nodes[0]!.chatMutate({
            chatId: chat,
            actorUserId: a!.userId,
            actorDeviceId: a!.deviceId,
            now,
            update: bytes('change'),
            ...c,
          });
        let stored = 0;
        for (let i = 0; i < 20; i++) {
          const [removal, [sent]] = await Promise.all([
            change(10 + i, { removeUserIds: [b!.userId] }),
            nodes[1]!.messageCommit([send(b!, `race-${i}`)]),
          ]);
          if (sent?.ok) {
            assert.ok(sent.seq < removal.seq, 'a stored send comes before the removal');
            stored++;
          } else {
            assert.deepEqual(sent, { ok: false, code: 'NOT_A_MEMBER' });
          }
          await change(10 + i, { addMembers: [{ userId: b!.userId, role: 'member' }] });
        }
        const last = (await nodes[1]!.chatGet(chat))!.lastSeq;
        assert.equal(last, 1 + 40 + stored, 'two updates per round plus the stored sends');
        const all = await nodes[1]!.messagesRead(a!.deviceId, chat, 0, last, 1000);
        assert.deepEqual(
          all.map((m) => m.seq),
          Array.from({ length: last }, (_, i) => i + 1),
        );
      } finally {
        await closeAll();
      }
    });

    it('a batch of large payloads (beyond one statement) commits whole, in order', async () => {
      try {
        const [a] = await cluster(1, 1);
        const big = (i: number) => new Uint8Array(64 * 1024).fill(i % 251);
        const items = Array.from({ length: 200 }, (_, i) => ({ ...send(a!, `big-${i}`), payload: big(i) }));
        const results = await nodes[0]!.messageCommit(items);
        assert.deepEqual(
          results.map((r) => r.ok && r.seq),
          Array.from({ length: 200 }, (_, i) => i + 2),
        );
        const stored = await nodes[0]!.messagesRead(a!.deviceId, chat, 1, 201, 300);
        assert.deepEqual(
          stored.map((m) => [m.clientMessageId, m.body?.byteLength, m.body?.[0]]),
          Array.from({ length: 200 }, (_, i) => [`big-${i}`, 64 * 1024, i % 251]),
        );
      } finally {
        await closeAll();
      }
    });

    it('the same direct chat created by several nodes at once is created once, and every node gets it', async () => {
      try {
        const rounds = 25;
        const accounts = await cluster(4, rounds + 1);
        const a = accounts[0]!;
        for (let round = 1; round <= rounds; round++) {
          const b = accounts[round]!;
          // Each node proposes its own chat id, from either side of the pair.
          const results = await Promise.all(
            nodes.map((node, k) => {
              const [creator, other] = k % 2 === 0 ? [a, b] : [b, a];
              return node.chatCreate({
                chatId: `dm-${round}-${k}` as ChatId,
                kind: 'direct',
                name: '',
                description: '',
                createdBy: creator.userId,
                createdByDevice: creator.deviceId,
                members: [
                  { userId: creator.userId, role: 'creator' },
                  { userId: other.userId, role: 'member' },
                ],
                now: 10 + round,
                update: bytes(`created by node ${k}`),
              });
            }),
          );
          const id = results[0]!.id;
          assert.match(id, new RegExp(`^dm-${round}-[0-3]$`));
          for (const r of results) assert.deepEqual(r, results[0], 'every node answers with the same chat');
          assert.equal(results[0]!.lastSeq, 1);
          assert.equal(await nodes[1]!.chatDirectFind(b.userId, a.userId), id);
          assert.deepEqual(
            (await nodes[2]!.messagesRead(b.deviceId, id, 0, 10, 10)).map((m) => m.seq),
            [1],
            'one CREATED update',
          );
          assert.deepEqual(
            cursorList(await nodes[3]!.cursorsOf(b.deviceId))
              .map((c) => c.chatId)
              .sort(),
            [chat, id].sort(),
          );
        }
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          const { rows } = await client.query(
            `SELECT count(*)::int AS n FROM ${schema}.chats WHERE kind = 'direct'`,
          );
          assert.equal(rows[0].n, rounds, 'one direct chat per pair');
        } finally {
          await client.end();
        }
      } finally {
        await closeAll();
      }
    });

    it('a call waiting longer than lockTimeoutMs for a row lock fails with UNAVAILABLE; it works once the lock is gone', async () => {
      const blocker = new pg.Client({ connectionString: pgUrl });
      try {
        const [a] = await cluster(1, 1, { lockTimeoutMs: 200 });
        await blocker.connect();
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM ${schema}.chats WHERE id = 'g' FOR UPDATE`);
        const rename = () =>
          nodes[0]!.chatMutate({
            chatId: chat,
            actorUserId: a!.userId,
            actorDeviceId: a!.deviceId,
            now: 3,
            update: bytes('renamed'),
            name: 'renamed',
          });
        for (const call of [rename, () => nodes[0]!.messageCommit([send(a!, 'm1')])]) {
          const started = Date.now();
          await assert.rejects(call(), (err: Error & { code?: string; retryAfterMs?: number }) => {
            assert.equal(err.name, 'ParleyError');
            assert.equal(err.code, 'UNAVAILABLE');
            assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0, 'retryable');
            return true;
          });
          const waited = Date.now() - started;
          assert.ok(waited >= 150 && waited < 1000, `gave up after the lock timeout (${waited} ms)`);
        }
        await blocker.query('ROLLBACK');
        assert.equal((await rename()).seq, 2);
        const [sent] = await nodes[0]!.messageCommit([send(a!, 'm1')]);
        assert.deepEqual(sent, { ok: true, seq: 3, serverTime: 2, duplicate: false });
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end().catch(() => undefined);
        await closeAll();
      }
    });

    it('a statement running longer than statementTimeoutMs fails with UNAVAILABLE', async () => {
      const blocker = new pg.Client({ connectionString: pgUrl });
      try {
        // The lock wait outlasts the statement timeout: the statement timeout ends it.
        const [a] = await cluster(1, 1, { statementTimeoutMs: 200, lockTimeoutMs: 5000 });
        await blocker.connect();
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${schema}.chats IN ACCESS EXCLUSIVE MODE`);
        const started = Date.now();
        await assert.rejects(nodes[0]!.chatGet(chat), { name: 'ParleyError', code: 'UNAVAILABLE' });
        const waited = Date.now() - started;
        assert.ok(waited >= 150 && waited < 1000, `cancelled after the statement timeout (${waited} ms)`);
        await blocker.query('ROLLBACK');
        assert.equal((await nodes[0]!.chatGet(chat))?.id, chat);
        const [sent] = await nodes[0]!.messageCommit([send(a!, 'm1')]);
        assert.ok(sent?.ok);
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end().catch(() => undefined);
        await closeAll();
      }
    });

    it('every connection starts with the statement and lock timeouts and JIT off; bad values are INVALID_ARGUMENT', async () => {
      const settings = async (options: Parameters<typeof createPool>[1], url = pgUrl) => {
        const pool = createPool(url, options);
        try {
          const { rows } = await pool.query(
            "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l, current_setting('jit') AS j",
          );
          return [rows[0].s, rows[0].l, rows[0].j];
        } finally {
          await pool.end();
        }
      };
      assert.deepEqual(await settings({}), ['30s', '10s', 'off'], 'the defaults');
      assert.deepEqual(await settings({ statementTimeoutMs: 1500, lockTimeoutMs: 250 }), [
        '1500ms',
        '250ms',
        'off',
      ]);
      const withOptions = new URL(pgUrl);
      withOptions.searchParams.set('options', '-c jit=on -c lock_timeout=3s');
      assert.deepEqual(
        await settings({ lockTimeoutMs: 0 }, withOptions.toString()),
        ['30s', '3s', 'on'],
        "the URL's own options stay, JIT included",
      );
      for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
        for (const key of ['statementTimeoutMs', 'lockTimeoutMs']) {
          await assert.rejects(PostgresStore.open(pgUrl, { [key]: bad }), {
            name: 'ParleyError',
            code: 'INVALID_ARGUMENT',
          });
        }
      }
    });

    it('migrations run once when several nodes open a fresh schema together', async () => {
      schema = freshSchema();
      try {
        const opened = await Promise.all([
          PostgresStore.open(pgUrl, { schema }),
          PostgresStore.open(pgUrl, { schema }),
          PostgresStore.open(pgUrl, { schema }),
        ]);
        nodes = opened;
        const applied = opened.flatMap((s) => s.migrations.applied).sort((x, y) => x - y);
        assert.deepEqual(
          applied,
          migrations.map((m) => m.version),
          'each migration was applied by exactly one node',
        );
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          const { rows } = await client.query(
            `SELECT version FROM ${schema}.schema_migrations ORDER BY version`,
          );
          assert.deepEqual(
            rows.map((r) => r.version),
            migrations.map((m) => m.version),
          );
        } finally {
          await client.end();
        }
        assert.deepEqual(
          (await migrate(pgUrl, { schema })).applied,
          [],
          'an up-to-date schema is left alone',
        );
      } finally {
        await closeAll();
      }
    });

    it('migration 015 removes the receipt marks that earlier expiries left behind, and only those', async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      try {
        const [a, b] = await cluster(1, 2);
        for (const n of [1, 2, 3]) await nodes[0]!.messageCommit([send(a!, `m${n}`)]);
        for (const seq of [2, 3, 4])
          await nodes[0]!.receiptsDelivered([{ chatId: chat, userId: b!.userId, seq }], 10 + seq);
        await nodes[0]!.close();
        nodes = [];
        // As an expiry before 015 left them: seqs 1-2 gone, the marks kept.
        await client.connect();
        await client.query(`DELETE FROM ${schema}.messages WHERE chat_id = $1 AND seq <= 2`, [chat]);
        await client.query(`DELETE FROM ${schema}.schema_migrations WHERE version = 15`);
        assert.deepEqual(await receiptMarksIn(pgUrl, schema, chat), ['1:2', '1:3', '1:4']);
        assert.deepEqual((await migrate(pgUrl, { schema })).applied, [15]);
        assert.deepEqual(await receiptMarksIn(pgUrl, schema, chat), ['1:3', '1:4'], 'seqs 3 and 4 are kept');
      } finally {
        await client.end().catch(() => undefined);
        await closeAll();
      }
    });

    it('open refuses a connection with synchronous_commit=off unless unsafe durability is allowed', async () => {
      schema = freshSchema();
      const unsafe = withOptions(pgUrl, '-c synchronous_commit=off');
      try {
        await assert.rejects(
          PostgresStore.open(unsafe, { schema }),
          (err: Error & { code?: string; details?: unknown }) => {
            assert.equal(err.name, 'ParleyError');
            assert.equal(err.code, 'INVALID_ARGUMENT');
            assert.deepEqual(err.details, {
              reason: 'UNSAFE_DURABILITY',
              synchronousCommit: 'off',
              fsync: 'on',
            });
            assert.match(err.message, /synchronous_commit=off/);
            assert.match(err.message, /allowUnsafeDurability/);
            return true;
          },
        );
        const store = await PostgresStore.open(unsafe, { schema, allowUnsafeDurability: true });
        nodes = [store];
        assert.equal(store.durability.synchronousCommit, 'off');
        await store.ping();
        const safe = await PostgresStore.open(pgUrl, { schema });
        nodes.push(safe);
        assert.equal(safe.durability.problem, undefined);
      } finally {
        await closeAll();
      }
    });

    it('a connection the server drops mid-call fails that call with UNAVAILABLE; the next call works', async () => {
      const blocker = new pg.Client({ connectionString: pgUrl });
      try {
        const [a] = await cluster(1, 1);
        await blocker.connect();
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM ${schema}.chats WHERE id = 'g' FOR UPDATE`);
        // Checked from the start: it may fail before the loop below has its answer, and a
        // rejection nobody handles yet fails the test on its own.
        const blocked = assert.rejects(nodes[0]!.messageCommit([send(a!, 'm1')]), {
          name: 'ParleyError',
          code: 'UNAVAILABLE',
        });
        // Terminate the store's connection while it waits for the chat lock held here (only
        // connections blocked by this one: other tests and processes may share the database).
        for (let killed = 0; killed === 0; ) {
          await new Promise((r) => setTimeout(r, 10));
          const { rows } = await blocker.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = 'parley' AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
          );
          killed = rows.length;
        }
        await blocked;
        await blocker.query('ROLLBACK');
        const [again] = await nodes[0]!.messageCommit([send(a!, 'm1')]);
        assert.deepEqual(again, { ok: true, seq: 2, serverTime: 2, duplicate: false });
      } finally {
        await blocker.end().catch(() => undefined);
        await closeAll();
      }
    });

    it('an unreachable server is UNAVAILABLE, and a bad schema name INVALID_ARGUMENT', async () => {
      const u = new URL(pgUrl);
      u.port = '1';
      await assert.rejects(PostgresStore.open(u.toString()), { name: 'ParleyError', code: 'UNAVAILABLE' });
      await assert.rejects(PostgresStore.open(pgUrl, { schema: 'Robert"); DROP' }), {
        name: 'ParleyError',
        code: 'INVALID_ARGUMENT',
      });
    });
  });
}
