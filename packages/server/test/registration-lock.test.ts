/**
 * The registration lock (two-step PIN) as clients see it, over real HTTP and real sockets:
 * setting and removing the PIN, registering a number that has one, wrong PINs up to the
 * lockout (also when they race), the primary ending a lockout, and the lock expiring when the
 * account's devices go unseen. A ManualClock moves the days. On SQLite (worker thread) and,
 * with PARLEY_TEST_POSTGRES_URL, on PostgreSQL (a fresh schema per suite).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Frame, RegistrationAttemptStage } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import type { Store } from '../src/ports/store.js';
import { type Creds, http, linkDevice, RawClient, register, startNode, type TestNode } from './harness.js';
import { storeBackends } from './postgres-fixture.js';

const DAY = 86_400_000;
const PIN = '24681357';
const WRONG = '11111111';

/** The store, counting the PIN tries it granted (each is one comparison of a PIN). */
function countingTries(store: Store): { store: Store; tries: () => number } {
  let n = 0;
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'registrationLockAttemptTake') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Store['registrationLockAttemptTake']>) => {
        const taken = await target.registrationLockAttemptTake(...args);
        if (taken) n++;
        return taken;
      };
    },
  });
  return { store: counted, tries: () => n };
}

const backends = storeBackends('parley-pin-');

for (const backend of backends) {
  describe(`registration lock (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let t: TestNode;
    let done: () => Promise<void>;
    let tries: () => number;
    const clock = new ManualClock(1_800_000_000_000);
    const clients: RawClient[] = [];

    before(async () => {
      const opened = await backend.open();
      done = opened.done;
      const counting = countingTries(opened.store);
      tries = counting.tries;
      t = await startNode(
        {
          // Every request comes from 127.0.0.1: the per-IP limits are not under test.
          authAttemptsPerMinute: 100_000,
          codeRequestsPerHour: 1000,
          pinChangesPerHour: 1000,
          serverSecret: 'pin-test-secret-0123456789abcdef0',
        },
        { store: counting.store, clock },
      );
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    after(async () => {
      await t.stop();
      await done();
    });

    const connect = async (creds: Creds) => {
      const c = await RawClient.connect(t, creds);
      clients.push(c);
      return c;
    };
    const pin = (method: string, token: string, body?: unknown) =>
      http(`${t.url}/v1/account/pin`, method, body, token);
    const requestCode = async (phone: string) => {
      clock.advance(61_000); // past codeResendMs since any earlier code
      const r = await http(`${t.url}/v1/auth/code`, 'POST', { phone });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return t.sms.codes.get(phone)!;
    };
    const verify = (phone: string, code: string, pinValue?: string) =>
      http(`${t.url}/v1/auth/verify`, 'POST', {
        phone,
        code,
        ...(pinValue !== undefined && { pin: pinValue }),
      });
    /** A user with a PIN, its primary connected (it hears about registration attempts). */
    const lockedUser = async () => {
      const user = await register(t);
      assert.equal((await pin('PUT', user.token, { pin: PIN })).status, 200);
      return { user, primary: await connect(user) };
    };
    const attempts = (c: RawClient) =>
      c.frames.flatMap((f: Frame) => (f.body.case === 'registrationAttempt' ? [f.body.value] : []));
    const waitAttempts = async (c: RawClient, n: number) => {
      const deadline = Date.now() + 5000;
      while (attempts(c).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return attempts(c);
    };

    it('the primary sets, changes and removes the PIN; every device sees whether it is on', async () => {
      const user = await register(t);
      const laptop = await linkDevice(t, user);
      assert.deepEqual((await pin('GET', user.token)).body, { enabled: false });
      const set = await pin('PUT', user.token, { pin: '123456' });
      assert.deepEqual(set.body, { enabled: true, setAt: clock.now() });
      assert.deepEqual((await pin('GET', laptop.token)).body, { enabled: true, setAt: clock.now() });
      assert.equal((await pin('PUT', user.token, { pin: '12345678901234567890' })).status, 200);
      const denied = await pin('PUT', laptop.token, { pin: '654321' });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'PERMISSION_DENIED');
      assert.equal((await pin('DELETE', laptop.token)).body.error.code, 'PERMISSION_DENIED');
      assert.deepEqual((await pin('DELETE', user.token)).body, { enabled: false });
      assert.deepEqual((await pin('GET', laptop.token)).body, { enabled: false });
      assert.deepEqual((await pin('DELETE', user.token)).body, { enabled: false }, 'removing twice is fine');
    });

    it('a new phone needs the PIN after the SMS code; the old phone hears of each step', async () => {
      const { user, primary } = await lockedUser();
      const code = await requestCode(user.phone);

      const asked = await verify(user.phone, code);
      assert.equal(asked.status, 403);
      assert.equal(asked.body.error.code, 'PIN_REQUIRED');
      assert.deepEqual(asked.body.error.details, { pinTriesLeft: 10 });
      const wrong = await verify(user.phone, code, WRONG);
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'PIN_INVALID');
      assert.deepEqual(wrong.body.error.details, { pinTriesLeft: 9 });
      assert.equal((await http(`${t.url}/v1/devices`, 'GET', undefined, user.token)).status, 200, 'still in');

      const seen = await waitAttempts(primary, 2);
      assert.deepEqual(
        seen.map((a) => [a.stage, a.pinTriesLeft, a.lockedUntil]),
        [
          [RegistrationAttemptStage.PIN_REQUESTED, 10, 0n],
          [RegistrationAttemptStage.WRONG_PIN, 9, 0n],
        ],
      );

      const ok = await verify(user.phone, code, PIN);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.userId, user.userId);
      assert.equal(await primary.closed, 4003, 'the old primary is logged out');
      const lock = await t.node.store.registrationLockGet(user.userId as never);
      assert.equal(lock?.failedAttempts, 0, 'the right PIN clears the count');
      assert.deepEqual((await pin('GET', ok.body.token)).body, { enabled: true, setAt: lock?.setAt });
    });

    it('wrong PINs do not use up the SMS code: 9 wrong PINs, then the right one, with one code', async () => {
      const { user } = await lockedUser();
      const code = await requestCode(user.phone);
      for (let i = 0; i < 9; i++) {
        const r = await verify(user.phone, code, WRONG);
        assert.equal(r.body.error.code, 'PIN_INVALID');
      }
      assert.equal((await t.node.store.codeGet(user.phone))?.attempts, 0, 'the right code cost no attempt');
      assert.equal((await verify(user.phone, code, PIN)).status, 200);
    });

    it('the 10th wrong PIN locks registration for 7 days; the right PIN is refused meanwhile', async () => {
      const { user, primary } = await lockedUser();
      const code = await requestCode(user.phone);
      for (let i = 0; i < 9; i++) await verify(user.phone, code, WRONG);
      const last = await verify(user.phone, code, WRONG);
      assert.equal(last.status, 423);
      assert.equal(last.body.error.code, 'PIN_LOCKED');
      assert.equal(last.body.error.retryAfterMs, 7 * DAY);
      assert.deepEqual(last.body.error.details, { lockedUntil: clock.now() + 7 * DAY });
      const lockedUntil = clock.now() + 7 * DAY;
      for (const p of [PIN, undefined]) {
        const r = await verify(user.phone, code, p);
        assert.equal(r.body.error.code, 'PIN_LOCKED');
      }
      const seen = await waitAttempts(primary, 12);
      assert.deepEqual(seen.at(-1), {
        ...seen.at(-1),
        stage: RegistrationAttemptStage.LOCKED_OUT,
        lockedUntil: BigInt(lockedUntil),
      });

      // Six days on the old phone is still in use; the day after, the lockout is over.
      clock.advance(6 * DAY);
      await t.node.runRetention(); // records the connected primary as seen now
      clock.advance(DAY);
      const later = await requestCode(user.phone);
      assert.deepEqual((await verify(user.phone, later)).body.error.details, { pinTriesLeft: 10 });
      assert.equal((await verify(user.phone, later, PIN)).status, 200);
    });

    it('during a lockout the primary removing the PIN lets the new phone in with the SMS code alone', async () => {
      const { user } = await lockedUser();
      const code = await requestCode(user.phone);
      for (let i = 0; i < 10; i++) await verify(user.phone, code, WRONG);
      assert.equal((await verify(user.phone, code, PIN)).body.error.code, 'PIN_LOCKED');
      assert.equal((await pin('DELETE', user.token)).status, 200);
      const ok = await verify(user.phone, code);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    });

    it('changing the PIN on the primary ends a lockout too, and the new PIN is the one asked', async () => {
      const { user } = await lockedUser();
      const code = await requestCode(user.phone);
      for (let i = 0; i < 10; i++) await verify(user.phone, code, WRONG);
      assert.equal((await pin('PUT', user.token, { pin: '99887766' })).status, 200);
      assert.deepEqual((await verify(user.phone, code, PIN)).body.error.details, { pinTriesLeft: 9 });
      assert.equal((await verify(user.phone, code, '99887766')).status, 200);
    });

    it('30 wrong PINs at once take exactly 10 tries, then registration is locked', async () => {
      const { user } = await lockedUser();
      const code = await requestCode(user.phone);
      // Each request holds one of the code's attempts while in flight: room for all 30.
      await t.node.store.codePut({ ...(await t.node.store.codeGet(user.phone))!, attempts: -100 });
      const before = tries();
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => verify(user.phone, code, String(10_000_000 + i))),
      );
      const codes = answers.map((a) => a.body.error.code);
      assert.equal(tries() - before, 10, 'PINs compared');
      assert.equal(codes.filter((c) => c === 'PIN_INVALID').length, 9, codes.join(' '));
      assert.equal(codes.filter((c) => c === 'PIN_LOCKED').length, 21, codes.join(' '));
      const lock = await t.node.store.registrationLockGet(user.userId as never);
      assert.deepEqual([lock?.failedAttempts, lock?.lockedUntil], [10, clock.now() + 7 * DAY]);
      assert.equal((await verify(user.phone, code, PIN)).body.error.code, 'PIN_LOCKED');
    });

    it('the lock expires after 7 days without any device of the account; the PIN is then removed', async () => {
      const user = await register(t);
      assert.equal((await pin('PUT', user.token, { pin: PIN })).status, 200);
      clock.advance(7 * DAY - 120_000);
      const code = await requestCode(user.phone);
      assert.equal((await verify(user.phone, code)).body.error.code, 'PIN_REQUIRED', 'not yet');
      clock.advance(60_000);
      const ok = await verify(user.phone, code);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual((await pin('GET', ok.body.token)).body, { enabled: false });
    });
  });
}
