/**
 * Malformed requests to the registration-lock routes (PUT/GET/DELETE /v1/account/pin, and the
 * `pin` of POST /v1/auth/verify): each gets a stable code, takes no PIN try and changes
 * nothing. And the PIN never reaches the log, whatever the request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { http, linkDevice, register, startNode, type TestNode } from './harness.js';

const PIN = '80808080579';
const BAD_PINS: unknown[] = [
  '',
  '12345',
  '123456789012345678901',
  '12345a',
  ' 123456',
  '123456 ',
  '12 3456',
  '+123456',
  '-123456',
  '1.23456',
  '١٢٣٤٥٦', // Arabic-Indic digits
  '１２３４５６', // full-width digits
  '123456\n',
  123456,
  12345678,
  true,
  [],
  ['123456'],
  { pin: '123456' },
];

describe('registration lock: malformed requests', () => {
  let t: TestNode;
  let logFile: string;
  let logDir: string;
  let user: Awaited<ReturnType<typeof register>>;

  before(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'parley-pin-log-'));
    logFile = join(logDir, 'node.log');
    const log = pino({ level: 'trace' }, pino.destination({ dest: logFile, sync: true }));
    t = await startNode({ authAttemptsPerMinute: 100_000, codeRequestsPerHour: 1000 }, { log });
    user = await register(t);
    assert.equal((await http(`${t.url}/v1/account/pin`, 'PUT', { pin: PIN }, user.token)).status, 200);
  });
  after(async () => {
    await t.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  const put = (body: unknown, token = user.token) => http(`${t.url}/v1/account/pin`, 'PUT', body, token);
  const status = async () => (await http(`${t.url}/v1/account/pin`, 'GET', undefined, user.token)).body;

  it('PUT /v1/account/pin refuses every malformed body with INVALID_ARGUMENT and keeps the PIN', async () => {
    const before = await status();
    const bodies: unknown[] = [
      ...BAD_PINS.map((pin) => ({ pin })),
      {},
      { pin: null },
      { PIN },
      { pin: '123456', currentPin: '123456' },
      { pin: '123456', extra: 1 },
      'not json',
      '{"pin": "123456"',
      '[]',
      '"123456"',
      '123456',
      'null',
      JSON.stringify({ pin: '1'.repeat(20_000) }),
    ];
    for (const body of bodies) {
      const r = await put(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT', JSON.stringify(body));
    }
    assert.deepEqual(await status(), before, 'the PIN is unchanged');
  });

  it('the PIN routes need a device token, and changes need the primary', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      for (const token of [undefined, 'x'.repeat(43), 'not a token']) {
        const r = await http(
          `${t.url}/v1/account/pin`,
          method,
          method === 'PUT' ? { pin: '123456' } : undefined,
          token,
        );
        assert.equal(r.status, 401, `${method} ${token}`);
        assert.equal(r.body.error.code, 'UNAUTHENTICATED');
      }
    }
    const laptop = await linkDevice(t, user);
    for (const body of [{ pin: '123456' }, { pin: 'bad' }]) {
      assert.equal((await put(body, laptop.token)).body.error.code, 'PERMISSION_DENIED');
    }
    const post = await http(`${t.url}/v1/account/pin`, 'POST', { pin: '123456' }, user.token);
    assert.equal(post.body.error.code, 'NOT_FOUND');
    assert.equal((await status()).enabled, true);
  });

  it('POST /v1/auth/verify refuses a malformed pin with INVALID_ARGUMENT before any code attempt or PIN try', async () => {
    await http(`${t.url}/v1/auth/code`, 'POST', { phone: user.phone });
    const code = t.sms.codes.get(user.phone)!;
    for (const pin of BAD_PINS) {
      const r = await http(`${t.url}/v1/auth/verify`, 'POST', { phone: user.phone, code, pin });
      assert.equal(r.status, 400, `${JSON.stringify(pin)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT', JSON.stringify(pin));
    }
    assert.equal((await t.node.store.codeGet(user.phone))?.attempts, 0);
    const lock = await t.node.store.registrationLockGet(user.userId as never);
    assert.equal(lock?.failedAttempts, 0, 'no PIN try was taken');
    // A null pin is no pin.
    const asked = await http(`${t.url}/v1/auth/verify`, 'POST', { phone: user.phone, code, pin: null });
    assert.equal(asked.body.error.code, 'PIN_REQUIRED');
  });

  it('the PIN never reaches the log', async () => {
    await http(`${t.url}/v1/auth/code`, 'POST', { phone: user.phone });
    const code = t.sms.codes.get(user.phone)!;
    const wrong = `${PIN.slice(0, -1)}0`;
    await http(`${t.url}/v1/auth/verify`, 'POST', { phone: user.phone, code, pin: wrong });
    await http(`${t.url}/v1/auth/verify`, 'POST', { phone: user.phone, code, pin: `${PIN}x` });
    assert.equal(
      (await http(`${t.url}/v1/auth/verify`, 'POST', { phone: user.phone, code, pin: PIN })).status,
      200,
    );
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /wrong registration lock PIN/, 'the log did record the attempts');
    for (const secret of [PIN, wrong]) assert.ok(!log.includes(secret), 'a PIN is in the log');
  });
});
