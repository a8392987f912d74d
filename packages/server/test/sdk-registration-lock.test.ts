/**
 * The SDK's registration-lock calls against a real node: set, read and remove the PIN; a
 * verify without the PIN is a ParleyError with `pinTriesLeft`; a connected ParleyClient of the
 * account hears each attempt as a `registrationAttempt` event.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  type ParleyError,
  type RegistrationAttemptInfo,
  registrationLockStatus,
  removeRegistrationLock,
  requestCode,
  setRegistrationLock,
  verifyCode,
} from '@parley/sdk';
import { nextPhone, startNode, type TestNode } from './harness.js';
import { closeWatched, until, watch } from './sdk-helpers.js';

describe('SDK: registration lock', () => {
  let t: TestNode;

  before(async () => {
    t = await startNode({});
  });
  afterEach(closeWatched);
  after(() => t.stop());

  it('a PIN set through the SDK is asked of a new phone, and the old phone hears of it', async () => {
    const phone = nextPhone();
    await requestCode(t.url, phone);
    const old = await verifyCode(t.url, { phone, code: t.sms.codes.get(phone)! });
    assert.deepEqual(await registrationLockStatus(old), { enabled: false });
    const set = await setRegistrationLock(old, '13572468');
    assert.equal(set.enabled, true);
    assert.deepEqual(await registrationLockStatus(old), set);

    const w = watch(old);
    const heard: RegistrationAttemptInfo[] = [];
    w.client.on('registrationAttempt', (a) => {
      heard.push(a);
    });
    await w.client.connect();

    await requestCode(t.url, phone);
    const code = t.sms.codes.get(phone)!;
    await assert.rejects(verifyCode(t.url, { phone, code }), (err: ParleyError) => {
      assert.equal(err.code, 'PIN_REQUIRED');
      assert.deepEqual(err.details, { pinTriesLeft: 10 });
      return true;
    });
    await assert.rejects(verifyCode(t.url, { phone, code, pin: '00000000' }), (err: ParleyError) => {
      assert.equal(err.code, 'PIN_INVALID');
      assert.deepEqual(err.details, { pinTriesLeft: 9 });
      return true;
    });
    await until(() => heard.length === 2, 'two registrationAttempt events');
    assert.deepEqual(
      heard.map((a) => [a.stage, a.pinTriesLeft, a.lockedUntil]),
      [
        ['pinRequested', 10, 0],
        ['wrongPin', 9, 0],
      ],
    );
    assert.ok(heard.every((a) => a.serverTime > 0));

    assert.deepEqual(await removeRegistrationLock(old), { enabled: false });
    const fresh = await verifyCode(t.url, { phone, code });
    assert.equal(fresh.userId, old.userId);
  });
});
