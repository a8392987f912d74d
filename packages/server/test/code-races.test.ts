/**
 * Racing requests against the code limits, over real HTTP on a real node: the attempt limit
 * of a registration code holds however many guesses arrive at once, the right code is only
 * accepted within the allowed attempts, and a link code links one device however many
 * requests redeem it together. On SQLite (worker thread) and, with PARLEY_TEST_POSTGRES_URL,
 * on PostgreSQL (a fresh schema per suite).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../src/ports/store.js';
import { http, nextPhone, register, startNode, type TestNode } from './harness.js';
import { storeBackends } from './postgres-fixture.js';

const MAX = 5;

/** A 6-digit code that is not `code`, different for each `i`. */
const wrongCode = (code: string, i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');

/** The store, counting per phone the attempts it granted (each is one comparison of a code). */
function countingAttempts(store: Store): { store: Store; granted: Map<string, number> } {
  const granted = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'codeAttemptTake') return Reflect.get(target, prop, receiver);
      return async (phone: string, now: number, max: number) => {
        const taken = await target.codeAttemptTake(phone, now, max);
        if (taken) granted.set(phone, (granted.get(phone) ?? 0) + 1);
        return taken;
      };
    },
  });
  return { store: counted, granted };
}

const backends = storeBackends('parley-races-');

for (const backend of backends) {
  describe(`code limits under racing requests (${backend.name})`, { skip: backend.skip ?? false }, () => {
    let t: TestNode;
    let granted: Map<string, number>;
    let done: () => Promise<void>;

    before(async () => {
      const opened = await backend.open();
      done = opened.done;
      const counting = countingAttempts(opened.store);
      granted = counting.granted;
      t = await startNode(
        {
          codeMaxAttempts: MAX,
          // The per-IP limits are not under test: every request here comes from 127.0.0.1.
          authAttemptsPerMinute: 100_000,
          codeRequestsPerHour: 1000,
          serverSecret: 'races-test-secret-0123456789abcdef',
        },
        { store: counting.store },
      );
    });
    after(async () => {
      await t.stop();
      await done();
    });

    const requestCode = async (phone: string) => {
      const r = await http(`${t.url}/v1/auth/code`, 'POST', { phone });
      assert.equal(r.status, 200);
      return t.sms.codes.get(phone)!;
    };
    const verify = (phone: string, code: string) => http(`${t.url}/v1/auth/verify`, 'POST', { phone, code });

    it('30 wrong codes at once count exactly the maximum, and then the right code is refused', async () => {
      const phone = nextPhone();
      const code = await requestCode(phone);
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => verify(phone, wrongCode(code, i))),
      );
      const codes = answers.map((a) => a.body.error.code);
      assert.equal(codes.filter((c) => c === 'CODE_INVALID').length, MAX - 1, codes.join(' '));
      assert.equal(codes.filter((c) => c === 'TOO_MANY_ATTEMPTS').length, 30 - (MAX - 1), codes.join(' '));
      assert.equal((await t.node.store.codeGet(phone))?.attempts, MAX);
      assert.equal(granted.get(phone), MAX);
      const right = await verify(phone, code);
      assert.equal(right.status, 429);
      assert.equal(right.body.error.code, 'TOO_MANY_ATTEMPTS');
      assert.equal(granted.get(phone), MAX, 'the right code was not compared');
    });

    it('20 wrong codes and the right one at once: the right one wins only within the maximum', async () => {
      for (let trial = 0; trial < 6; trial++) {
        const phone = nextPhone();
        const code = await requestCode(phone);
        const at = (trial * 4) % 21;
        const guesses = Array.from({ length: 21 }, (_, i) => (i === at ? code : wrongCode(code, i)));
        const answers = await Promise.all(guesses.map((g) => verify(phone, g)));
        const wins = answers.filter((a) => a.status === 200);
        assert.ok(wins.length <= 1, `${wins.length} requests registered`);
        const comparisons = granted.get(phone) ?? 0;
        assert.ok(comparisons <= MAX, `${comparisons} codes were compared, more than ${MAX}`);
        if (answers[at]!.status === 200) {
          assert.equal(await t.node.store.codeGet(phone), undefined, 'the code is used up');
        } else {
          assert.equal(answers[at]!.body.error.code, 'TOO_MANY_ATTEMPTS');
          assert.equal(wins.length, 0);
          assert.equal((await t.node.store.codeGet(phone))?.attempts, MAX);
          assert.equal(comparisons, MAX);
        }
      }
    });

    it('one link code redeemed by 20 requests at once links exactly one device', async () => {
      const primary = await register(t);
      const lc = await http(`${t.url}/v1/devices/link-code`, 'POST', {}, primary.token);
      assert.equal(lc.status, 200);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          http(`${t.url}/v1/devices/link`, 'POST', { code: lc.body.code, deviceName: `d${i}` }),
        ),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 1);
      for (const a of answers.filter((x) => x.status !== 200)) {
        assert.equal(a.status, 400);
        assert.equal(a.body.error.code, 'CODE_INVALID');
      }
      const list = await http(`${t.url}/v1/devices`, 'GET', undefined, primary.token);
      assert.equal(list.body.devices.length, 2);
    });
  });
}
