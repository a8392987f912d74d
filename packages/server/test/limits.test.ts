/**
 * Every abuse limit as a client meets it, over real sockets on SQLite and (with
 * PARLEY_TEST_POSTGRES_URL) PostgreSQL: requests fired at once pass exactly up to the limit,
 * the rest get RATE_LIMITED with retryAfterMs on the WebSocket, or 429 with a Retry-After
 * header in whole seconds over HTTP. Each test's users register from addresses of their own
 * (X-Forwarded-For from a trusted proxy), so the per-address limits count only what a test
 * means them to.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Frame } from '@parley/protocol';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import type { ConfigInput } from '../src/config/schema.js';
import { ManualClock } from '../src/ports/clock.js';
import { answerCode, type Creds, nextPhone, RawClient, startNode, type TestNode, text } from './harness.js';

const url = process.env.PARLEY_TEST_POSTGRES_URL;
const DAY = 86_400_000;

const LIMITS = {
  trustedProxies: '127.0.0.1',
  codeResendMs: 0,
  sendsPerMinute: 5,
  sendBurst: 2,
  groupsPerHour: 3,
  mediaUploadsPerHour: 4,
  mediaBytesPerHour: 1000,
  mediaMaxBytes: 2000,
  discoverPerMinute: 8,
  discoverNewPerDay: 6,
  codeRequestsPerHour: 3,
  codeRequestsPerIpPerHour: 1000,
  registrationsPerIpPerDay: 4,
} satisfies ConfigInput;

let addressCounter = 0;
/** A client address no other request of the test file uses. */
const freshAddress = () => `198.51.100.${++addressCounter}`;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { error?: { code: string; retryAfterMs?: number } } & Record<string, unknown>;
}

async function call(
  t: TestNode,
  method: string,
  path: string,
  opts: { json?: unknown; bytes?: Uint8Array; token?: string; from?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      ...(opts.json !== undefined && { 'content-type': 'application/json' }),
      ...(opts.token && { authorization: `Bearer ${opts.token}` }),
      ...(opts.from && { 'x-forwarded-for': opts.from }),
    },
    body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.bytes,
  });
  const body = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: body ? JSON.parse(body) : {},
  };
}

/** A 429 answer as every limit gives it over HTTP: RATE_LIMITED, retryAfterMs and Retry-After in seconds. */
function assertHttpLimited(a: Answer, maxMs: number): void {
  assert.equal(a.status, 429, JSON.stringify(a.body));
  assert.equal(a.body.error?.code, 'RATE_LIMITED');
  const ms = a.body.error!.retryAfterMs!;
  assert.ok(ms > 0 && ms <= maxMs, `retryAfterMs ${ms}`);
  assert.equal(
    a.retryAfter,
    String(Math.ceil(ms / 1000)),
    'Retry-After is retryAfterMs in seconds, rounded up',
  );
}

/** A RATE_LIMITED error frame with a retry time of at most `maxMs`. */
function assertWsLimited(f: Frame, maxMs: number): void {
  assert.equal(answerCode(f), 'RATE_LIMITED');
  const ms = f.body.case === 'error' ? f.body.value.retryAfterMs : 0;
  assert.ok(ms > 0 && ms <= maxMs, `retryAfterMs ${ms}`);
}

const count = (xs: readonly string[], x: string) => xs.filter((y) => y === x).length;

async function registerFrom(t: TestNode, from = freshAddress()): Promise<Creds & { phone: string }> {
  const phone = nextPhone();
  assert.equal((await call(t, 'POST', '/v1/auth/code', { json: { phone }, from })).status, 200);
  const r = await call(t, 'POST', '/v1/auth/verify', { json: { phone, code: t.sms.codes.get(phone) }, from });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { ...(r.body as unknown as Creds), phone };
}

const phoneHash = (phone: string) => new Uint8Array(createHash('sha256').update(phone).digest());
const randomHashes = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));

const backends: Array<{
  name: string;
  skip?: string;
  start: (config: ConfigInput, clock: ManualClock) => Promise<{ t: TestNode; done: () => Promise<void> }>;
}> = [
  {
    name: 'SQLite',
    start: async (config, clock) => {
      const t = await startNode(config, { clock });
      return { t, done: () => t.stop() };
    },
  },
  {
    name: 'PostgreSQL',
    ...(url === undefined && { skip: 'PARLEY_TEST_POSTGRES_URL is not set' }),
    start: async (config, clock) => {
      const schema = freshSchema();
      const store = await PostgresStore.open(url!, { schema, poolSize: 8 });
      const t = await startNode(config, { store, clock });
      return {
        t,
        done: async () => {
          await t.stop();
          await dropSchema(url!, schema);
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`abuse limits (${backend.name})`, { ...(backend.skip && { skip: backend.skip }) }, () => {
    const clock = new ManualClock(1_800_000_000_000);
    let t: TestNode;
    let done: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ t, done } = await backend.start(LIMITS, clock));
    });
    after(() => done?.());

    it('messages: of 12 sends fired at once, the minute’s 5 and the burst’s 2 pass, the rest are RATE_LIMITED', async (ctx) => {
      const [amy, ben] = [await registerFrom(t), await registerFrom(t)];
      const c = await RawClient.connect(t, amy!);
      ctx.after(() => c.close());
      const { chat } = await c.call<{ chat: { id: string } }>({
        case: 'createChat',
        value: { kind: ChatKind.DIRECT, memberUserIds: [ben!.userId] },
      });
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          c.request({
            case: 'send',
            value: { chatId: chat.id, clientMessageId: `m${i}`, payload: text('hi') },
          }),
        ),
      );
      const codes = answers.map(answerCode);
      assert.equal(count(codes, 'sendResult'), 7, codes.join());
      assert.equal(count(codes, 'RATE_LIMITED'), 5, codes.join());
      for (const f of answers.filter((x) => answerCode(x) === 'RATE_LIMITED')) assertWsLimited(f, 60_000);
    });

    it('groups: of 6 created at once, 3 pass; direct chats are not counted', async (ctx) => {
      const [amy, ben, cat] = [await registerFrom(t), await registerFrom(t), await registerFrom(t)];
      const c = await RawClient.connect(t, amy!);
      ctx.after(() => c.close());
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          c.request({
            case: 'createChat',
            value: { kind: ChatKind.GROUP, memberUserIds: [ben!.userId], name: `g${i}` },
          }),
        ),
      );
      const codes = answers.map(answerCode);
      assert.equal(count(codes, 'chatResult'), 3, codes.join());
      for (const f of answers.filter((x) => answerCode(x) !== 'chatResult')) assertWsLimited(f, 3_600_000);
      const direct = await c.request({
        case: 'createChat',
        value: { kind: ChatKind.DIRECT, memberUserIds: [cat!.userId] },
      });
      assert.equal(answerCode(direct), 'chatResult');
    });

    it('media: of 8 uploads at once 4 pass; bytes past the hour’s budget get 429 with Retry-After', async () => {
      const amy = await registerFrom(t);
      const put = (token: string, body: Uint8Array) =>
        call(t, 'PUT', `/v1/media/${createHash('sha256').update(body).digest('hex')}`, {
          bytes: body,
          token,
        });
      const answers = await Promise.all(Array.from({ length: 8 }, () => put(amy.token, randomBytes(100))));
      assert.equal(answers.filter((a) => a.status === 201).length, 4);
      for (const a of answers.filter((x) => x.status !== 201)) assertHttpLimited(a, 3_600_000);

      const ben = await registerFrom(t);
      const big = await Promise.all(Array.from({ length: 4 }, () => put(ben.token, randomBytes(400))));
      assert.equal(big.filter((a) => a.status === 201).length, 2, 'two 400-byte bodies fit in 1000 bytes');
      for (const a of big.filter((x) => x.status !== 201)) assertHttpLimited(a, 3_600_000);

      const cat = await registerFrom(t);
      const tooBig = await put(cat.token, randomBytes(1500));
      assert.equal(
        tooBig.body.error?.code,
        'PAYLOAD_TOO_LARGE',
        'larger than the hourly budget: waiting would not help',
      );
    });

    it('discovery: a daily budget of new numbers, repeats free, shared by racing requests, open again a day later', async (ctx) => {
      const [amy, ben] = [await registerFrom(t), await registerFrom(t)];
      const c = await RawClient.connect(t, amy!);
      ctx.after(() => c.close());
      const discover = (phoneHashes: Uint8Array[]) => c.request({ case: 'discover', value: { phoneHashes } });
      const known = [phoneHash(ben!.phone), ...randomHashes(1)];
      const first = await discover(known);
      assert.equal(answerCode(first), 'discoverResult');
      const matches = (f: Frame) =>
        f.body.case === 'discoverResult' ? f.body.value.matches.map((m) => m.userId) : [];
      assert.deepEqual(matches(first), [ben!.userId]);

      // 2 of the 6 are spent: of four requests of 2 new numbers each, two pass.
      const raced = await Promise.all([0, 1, 2, 3].map(() => discover(randomHashes(2))));
      const codes = raced.map(answerCode);
      assert.equal(count(codes, 'discoverResult'), 2, codes.join());
      for (const f of raced.filter((x) => answerCode(x) === 'RATE_LIMITED')) assertWsLimited(f, DAY);

      const again = await discover(known);
      assert.equal(answerCode(again), 'discoverResult', 'numbers looked up today are free');
      assert.deepEqual(matches(again), [ben!.userId]);
      assert.equal(
        answerCode(await discover(randomHashes(7))),
        'INVALID_ARGUMENT',
        'more than the whole budget',
      );

      clock.advance(DAY);
      assert.equal(
        answerCode(await discover(randomHashes(6))),
        'discoverResult',
        'a day later the budget is whole',
      );
      // That was the eighth request this minute (discoverPerMinute).
      assertWsLimited(await discover(known), 60_000);
    });

    it('code requests: 3 an hour per number, whatever the concurrency', async () => {
      const phone = nextPhone();
      const from = freshAddress();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => call(t, 'POST', '/v1/auth/code', { json: { phone }, from })),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 3);
      for (const a of answers.filter((x) => x.status !== 200)) assertHttpLimited(a, 3_600_000);
      assert.equal(
        (await call(t, 'POST', '/v1/auth/code', { json: { phone: nextPhone() }, from })).status,
        200,
      );
    });

    it('registrations: 4 a day per client address; a wrong code is not counted', async () => {
      const from = freshAddress();
      const phones = Array.from({ length: 6 }, () => nextPhone());
      for (const phone of phones) {
        assert.equal((await call(t, 'POST', '/v1/auth/code', { json: { phone }, from })).status, 200);
      }
      const wrong = await call(t, 'POST', '/v1/auth/verify', {
        json: { phone: phones[0], code: t.sms.codes.get(phones[0]!) === '000000' ? '000001' : '000000' },
        from,
      });
      assert.equal(wrong.body.error?.code, 'CODE_INVALID');
      const answers = await Promise.all(
        phones.map((phone) =>
          call(t, 'POST', '/v1/auth/verify', { json: { phone, code: t.sms.codes.get(phone) }, from }),
        ),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 4);
      for (const a of answers.filter((x) => x.status !== 200)) assertHttpLimited(a, DAY);
      // Another address registers as before.
      await registerFrom(t);
    });
  });
}
