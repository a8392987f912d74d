/**
 * Registration, device credentials, linking, revocation and the WebSocket upgrade, as a
 * client sees them over real HTTP and real sockets. Code expiry and device retirement move
 * a ManualClock instead of waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCodes, offeredSubprotocols } from '@parley/protocol';
import WebSocket from 'ws';
import { ManualClock } from '../src/ports/clock.js';
import {
  type Creds,
  http,
  linkDevice,
  nextPhone,
  RawClient,
  register,
  startNode,
  type TestNode,
} from './harness.js';

const DAY = 86_400_000;

/** A 6-digit code that is not `code`. */
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

const requestCode = (t: TestNode, phone: unknown) => http(`${t.url}/v1/auth/code`, 'POST', { phone });
const verify = (t: TestNode, phone: string, code: string) =>
  http(`${t.url}/v1/auth/verify`, 'POST', { phone, code });
const listDevices = (t: TestNode, token: string) => http(`${t.url}/v1/devices`, 'GET', undefined, token);

/** Attempts a WebSocket upgrade; resolves with the HTTP status (101 when it succeeded) and error body. */
function tryUpgrade(
  t: TestNode,
  opts: { token?: string; protocols?: string[]; query?: string },
): Promise<{ status: number; body?: { error: { code: string } } }> {
  const url = `${t.url.replace('http', 'ws')}/v1/ws${opts.query ?? ''}`;
  const ws = new WebSocket(url, opts.protocols ?? offeredSubprotocols('json'), {
    headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    ws.once('error', reject);
  });
}

describe('registration with an SMS code', () => {
  let t: TestNode;
  const clock = new ManualClock();

  before(async () => {
    t = await startNode({}, { clock });
  });
  after(() => t.stop());

  it('registers a primary device that can list its devices and open a socket', async () => {
    const phone = nextPhone();
    const spaced = `${phone.slice(0, 2)} ${phone.slice(2, 5)} ${phone.slice(5)}`;
    const r1 = await requestCode(t, spaced);
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.body, { phone, expiresInMs: 5 * 60_000, resendAfterMs: 60_000 });
    const code = t.sms.codes.get(phone)!;
    assert.match(code, /^\d{6}$/);
    const r2 = await http(`${t.url}/v1/auth/verify`, 'POST', { phone, code, deviceName: 'my phone' });
    assert.equal(r2.status, 200);
    assert.equal(r2.body.primary, true);
    assert.match(r2.body.userId, /^u_/);
    assert.match(r2.body.deviceId, /^d_/);
    assert.equal(typeof r2.body.token, 'string');
    const list = await listDevices(t, r2.body.token);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.devices, [
      {
        deviceId: r2.body.deviceId,
        name: 'my phone',
        primary: true,
        createdAt: clock.now(),
        lastSeenAt: clock.now(),
      },
    ]);
    const c = await RawClient.connect(t, r2.body);
    const welcome = c.frames[0]!;
    assert.equal(welcome.body.case, 'welcome');
    assert.equal((welcome.body.value as { userId: string }).userId, r2.body.userId);
    await c.close();
    // The code is used up: it cannot register a second device.
    const again = await verify(t, phone, code);
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'CODE_INVALID');
  });

  for (const [what, phone] of [
    ['not international', '4152000001'],
    ['letters', '+1415ABCDEFG'],
    ['too short', '+44123'],
    ['valid-looking but invalid', '+10005551234'],
    ['not a string', 14152000001],
  ] as const) {
    it(`rejects a phone number that is ${what} with 400 INVALID_PHONE`, async () => {
      const sent = t.sms.codes.size;
      const r = await requestCode(t, phone);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'INVALID_PHONE');
      assert.equal(t.sms.codes.size, sent, 'no SMS was sent');
    });
  }

  it('answers a wrong code with CODE_INVALID and the attempts left', async () => {
    const phone = nextPhone();
    await requestCode(t, phone);
    const code = t.sms.codes.get(phone)!;
    const r = await verify(t, phone, wrongCode(code));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'CODE_INVALID');
    assert.match(r.body.error.message, /4 attempts left/);
    const r2 = await verify(t, phone, wrongCode(code));
    assert.match(r2.body.error.message, /3 attempts left/);
    // The right code still works after a few wrong ones.
    const ok = await verify(t, phone, code);
    assert.equal(ok.status, 200);
  });

  it('after 5 wrong codes refuses even the right code with TOO_MANY_ATTEMPTS until a new code is sent', async () => {
    const phone = nextPhone();
    await requestCode(t, phone);
    const code = t.sms.codes.get(phone)!;
    for (let i = 0; i < 4; i++) {
      const r = await verify(t, phone, wrongCode(code));
      assert.equal(r.body.error.code, 'CODE_INVALID');
    }
    const fifth = await verify(t, phone, wrongCode(code));
    assert.equal(fifth.status, 429);
    assert.equal(fifth.body.error.code, 'TOO_MANY_ATTEMPTS');
    const right = await verify(t, phone, code);
    assert.equal(right.status, 429);
    assert.equal(right.body.error.code, 'TOO_MANY_ATTEMPTS');
    // A new code (after the resend wait) works.
    clock.advance(60_000);
    assert.equal((await requestCode(t, phone)).status, 200);
    const fresh = t.sms.codes.get(phone)!;
    assert.equal((await verify(t, phone, fresh)).status, 200);
  });

  it('refuses a code older than 5 minutes with CODE_EXPIRED', async () => {
    const phone = nextPhone();
    await requestCode(t, phone);
    const code = t.sms.codes.get(phone)!;
    clock.advance(5 * 60_000 - 1);
    clock.advance(1);
    const r = await verify(t, phone, code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'CODE_EXPIRED');
  });

  it('accepts a code just before it expires', async () => {
    const phone = nextPhone();
    await requestCode(t, phone);
    const code = t.sms.codes.get(phone)!;
    clock.advance(5 * 60_000 - 1);
    assert.equal((await verify(t, phone, code)).status, 200);
  });

  it('refuses a resend within codeResendMs with 429 RATE_LIMITED and retryAfterMs', async () => {
    const phone = nextPhone();
    assert.equal((await requestCode(t, phone)).status, 200);
    const first = t.sms.codes.get(phone);
    clock.advance(10_000);
    const r = await requestCode(t, phone);
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'RATE_LIMITED');
    assert.equal(r.body.error.retryAfterMs, 50_000);
    assert.equal(t.sms.codes.get(phone), first, 'no new code was sent');
    clock.advance(50_000);
    assert.equal((await requestCode(t, phone)).status, 200);
  });

  it('re-registering a phone makes a new primary and revokes the old one (HTTP 401, socket closed 4003)', async () => {
    const old = await register(t);
    const laptop = await linkDevice(t, old);
    const oldSocket = await RawClient.connect(t, old);
    const fresh = await register(t, old.phone);
    assert.equal(fresh.userId, old.userId, 'same account');
    assert.notEqual(fresh.deviceId, old.deviceId);
    assert.equal(await oldSocket.closed, CloseCodes.REVOKED);
    const denied = await listDevices(t, old.token);
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error.code, 'UNAUTHENTICATED');
    assert.equal((await tryUpgrade(t, { token: old.token })).status, 401);
    const list = await listDevices(t, fresh.token);
    assert.equal(list.status, 200);
    const primaries = new Map(
      list.body.devices.map((d: { deviceId: string; primary: boolean }) => [d.deviceId, d.primary]),
    );
    assert.deepEqual(
      primaries,
      new Map([
        [laptop.deviceId, false],
        [fresh.deviceId, true],
      ]),
      'the linked device stays; the new device is the only primary',
    );
    const c = await RawClient.connect(t, fresh);
    await c.call({ case: 'ping', value: {} });
    await c.close();
  });
});

describe('linking and removing devices', () => {
  let t: TestNode;
  let alice: Creds;

  before(async () => {
    t = await startNode();
    alice = await register(t);
  });
  after(() => t.stop());

  it('gives a link code to the primary only; a linked device gets 403 PERMISSION_DENIED', async () => {
    const laptop = await linkDevice(t, alice);
    const r = await http(`${t.url}/v1/devices/link-code`, 'POST', {}, laptop.token);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'PERMISSION_DENIED');
    const noToken = await http(`${t.url}/v1/devices/link-code`, 'POST', {});
    assert.equal(noToken.status, 401);
    assert.equal(noToken.body.error.code, 'UNAUTHENTICATED');
  });

  it('accepts a link code once', async () => {
    const lc = await http(`${t.url}/v1/devices/link-code`, 'POST', {}, alice.token);
    assert.equal(lc.status, 200);
    const first = await http(`${t.url}/v1/devices/link`, 'POST', {
      code: lc.body.code,
      deviceName: 'tablet',
    });
    assert.equal(first.status, 200);
    assert.equal(first.body.userId, alice.userId);
    assert.equal(first.body.primary, false);
    const second = await http(`${t.url}/v1/devices/link`, 'POST', { code: lc.body.code });
    assert.equal(second.status, 400);
    assert.equal(second.body.error.code, 'CODE_INVALID');
  });

  it('refuses a sixth device with 409 DEVICE_LIMIT', async () => {
    const bob = await register(t);
    for (let i = 0; i < 4; i++) await linkDevice(t, bob);
    assert.equal((await listDevices(t, bob.token)).body.devices.length, 5);
    const lc = await http(`${t.url}/v1/devices/link-code`, 'POST', {}, bob.token);
    const r = await http(`${t.url}/v1/devices/link`, 'POST', { code: lc.body.code });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'DEVICE_LIMIT');
    assert.equal((await listDevices(t, bob.token)).body.devices.length, 5);
  });

  it('removing a device closes its socket with 4003 and its token is refused at upgrade with 401', async () => {
    const carol = await register(t);
    const laptop = await linkDevice(t, carol);
    const c = await RawClient.connect(t, laptop);
    const del = await http(`${t.url}/v1/devices/${laptop.deviceId}`, 'DELETE', undefined, carol.token);
    assert.equal(del.status, 204);
    assert.equal(await c.closed, CloseCodes.REVOKED);
    const up = await tryUpgrade(t, { token: laptop.token });
    assert.equal(up.status, 401);
    assert.equal(up.body?.error.code, 'UNAUTHENTICATED');
    assert.equal((await listDevices(t, laptop.token)).status, 401);
    const list = await listDevices(t, carol.token);
    assert.deepEqual(
      list.body.devices.map((d: { deviceId: string }) => d.deviceId),
      [carol.deviceId],
    );
  });

  it('lets a linked device remove itself but not another device', async () => {
    const dave = await register(t);
    const laptop = await linkDevice(t, dave);
    const tablet = await linkDevice(t, dave);
    const other = await http(`${t.url}/v1/devices/${tablet.deviceId}`, 'DELETE', undefined, laptop.token);
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'PERMISSION_DENIED');
    const self = await http(`${t.url}/v1/devices/${laptop.deviceId}`, 'DELETE', undefined, laptop.token);
    assert.equal(self.status, 204);
    assert.equal((await listDevices(t, laptop.token)).status, 401);
    assert.equal((await listDevices(t, tablet.token)).status, 200);
  });

  it('answers 404 NOT_FOUND for removing a device of another account', async () => {
    const eve = await register(t);
    const r = await http(`${t.url}/v1/devices/${eve.deviceId}`, 'DELETE', undefined, alice.token);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
    assert.equal((await listDevices(t, eve.token)).status, 200);
  });
});

describe('WebSocket upgrade', () => {
  let t: TestNode;
  let alice: Creds;

  before(async () => {
    t = await startNode();
    alice = await register(t);
  });
  after(() => t.stop());

  it('refuses an upgrade without a token with 401 UNAUTHENTICATED', async () => {
    const r = await tryUpgrade(t, {});
    assert.equal(r.status, 401);
    assert.equal(r.body?.error.code, 'UNAUTHENTICATED');
  });

  it('refuses an upgrade with a bad token with 401 UNAUTHENTICATED', async () => {
    const r = await tryUpgrade(t, { token: 'not-a-real-token' });
    assert.equal(r.status, 401);
    assert.equal(r.body?.error.code, 'UNAUTHENTICATED');
    assert.equal((await tryUpgrade(t, { token: `${alice.token}x` })).status, 401);
  });

  it('accepts the token in the query string', async () => {
    const r = await tryUpgrade(t, { query: `?token=${encodeURIComponent(alice.token)}` });
    assert.equal(r.status, 101);
  });

  it('refuses an upgrade with no acceptable subprotocol with 426 UNSUPPORTED_VERSION', async () => {
    for (const protocols of [[], ['chat'], ['parley.v9.json'], ['parley.v1.xml']]) {
      const r = await tryUpgrade(t, { token: alice.token, protocols });
      assert.equal(r.status, 426, `offered ${JSON.stringify(protocols)}`);
      assert.equal(r.body?.error.code, 'UNSUPPORTED_VERSION');
    }
    assert.equal(
      (await tryUpgrade(t, { token: alice.token, protocols: ['chat', 'parley.v1.proto'] })).status,
      101,
    );
  });

  it('a second connection of the same device closes the first with 4001 and keeps working', async () => {
    const first = await RawClient.connect(t, alice);
    const second = await RawClient.connect(t, alice, { encoding: 'proto' });
    assert.equal(await first.closed, CloseCodes.REPLACED);
    const pong = await second.request({ case: 'ping', value: {} });
    assert.equal(pong.body.case, 'pong');
    assert.equal(second.closeCode, undefined);
    assert.equal(t.node.hub.size, 1);
    await second.close();
  });
});

describe('linked devices without their primary', () => {
  let t: TestNode;
  const clock = new ManualClock();

  before(async () => {
    t = await startNode({}, { clock });
  });
  after(() => t.stop());

  it('retires linked devices after the primary has not been seen for 14 days (socket closed 4003)', async () => {
    const alice = await register(t);
    const laptop = await linkDevice(t, alice);
    clock.advance(13 * DAY);
    const laptopSocket = await RawClient.connect(t, laptop);
    assert.deepEqual(await t.node.runRetention(), { expired: 0, retired: 0, mediaExpired: 0 });
    clock.advance(DAY + 1);
    assert.deepEqual(await t.node.runRetention(), { expired: 0, retired: 1, mediaExpired: 0 });
    assert.equal(await laptopSocket.closed, CloseCodes.REVOKED);
    assert.equal((await listDevices(t, laptop.token)).status, 401);
    const list = await listDevices(t, alice.token);
    assert.deepEqual(
      list.body.devices.map((d: { deviceId: string }) => d.deviceId),
      [alice.deviceId],
      'the primary stays',
    );
  });

  it('does not retire linked devices whose primary was seen recently', async () => {
    const bob = await register(t);
    const laptop = await linkDevice(t, bob);
    // The primary comes online on day 10 and goes away again.
    clock.advance(10 * DAY);
    const phone = await RawClient.connect(t, bob);
    await phone.close();
    // Last-seen times are written in batches a moment after the connect or the close.
    let seen = 0;
    for (let waited = 0; seen !== clock.now() && waited < 5000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
      seen = (await listDevices(t, bob.token)).body.devices.find(
        (d: { primary: boolean }) => d.primary,
      ).lastSeenAt;
    }
    assert.equal(seen, clock.now());
    clock.advance(10 * DAY);
    const laptopSocket = await RawClient.connect(t, laptop);
    assert.equal((await t.node.runRetention()).retired, 0);
    await laptopSocket.call({ case: 'ping', value: {} });
    assert.equal(laptopSocket.closeCode, undefined);
    assert.equal((await listDevices(t, laptop.token)).status, 200);
    await laptopSocket.close();
  });

  it('does not retire linked devices while the primary is connected', async () => {
    const carol = await register(t);
    const laptop = await linkDevice(t, carol);
    const phone = await RawClient.connect(t, carol);
    const laptopSocket = await RawClient.connect(t, laptop);
    clock.advance(30 * DAY);
    await t.node.runRetention();
    assert.equal((await listDevices(t, laptop.token)).status, 200);
    await laptopSocket.call({ case: 'ping', value: {} });
    assert.equal(laptopSocket.closeCode, undefined);
    await laptopSocket.close();
    await phone.close();
  });
});

describe('HTTP edge', () => {
  let t: TestNode;

  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('answers a malformed JSON body with 400 INVALID_ARGUMENT', async () => {
    for (const body of ['{"phone": ', 'not json', '[1,2]', '"+14152000001"']) {
      const r = await http(`${t.url}/v1/auth/code`, 'POST', body);
      assert.equal(r.status, 400, body);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
    }
    const verifyBad = await http(`${t.url}/v1/auth/verify`, 'POST', '{');
    assert.equal(verifyBad.body.error.code, 'INVALID_ARGUMENT');
    const linkBad = await http(`${t.url}/v1/devices/link`, 'POST', '{');
    assert.equal(linkBad.body.error.code, 'INVALID_ARGUMENT');
    // The server still answers well-formed requests.
    assert.equal((await requestCode(t, nextPhone())).status, 200);
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/v1/auth/code'],
      ['POST', '/healthz'],
    ] as const) {
      const r = await http(`${t.url}${path}`, method);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.error.code, 'NOT_FOUND');
    }
    assert.equal((await http(`${t.url}/healthz`, 'GET')).status, 200);
  });
});
