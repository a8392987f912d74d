/**
 * `parley pin` and `parley register` against a node on loopback, as real processes: the
 * primary sets the PIN (asked twice on stdin), a registration of the number on a "new phone"
 * asks for it after the code and again after a wrong one, and the primary removes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestCode } from '@parley/sdk';
import { useTestNode } from './testing/node.js';
import { saveTestProfile, useParleyProcesses } from './testing/processes.js';

// First, so the processes end before the node stops.
const { parley } = useParleyProcesses();
const t = useTestNode('parley-pin-');

const A = '+14155556001';

test('the primary sets a PIN; registering the number elsewhere asks for it; the primary removes it', async () => {
  await saveTestProfile(t, 'alice', A);
  const status = parley(t, ['pin', '--profile', 'alice']);
  assert.equal(await status.exited, 0);
  assert.match(status.output(), /Registration lock: off/);

  const mismatch = parley(t, ['pin', 'set', '--profile', 'alice']);
  await mismatch.see('New PIN');
  mismatch.type('24681357');
  await mismatch.see('Repeat the PIN');
  mismatch.type('24681358');
  assert.equal(await mismatch.exited, 1);
  assert.match(mismatch.output(), /the PINs differ/);

  const set = parley(t, ['pin', 'set', '--profile', 'alice']);
  await set.see('New PIN');
  set.type('24681357');
  await set.see('Repeat the PIN');
  set.type('24681357');
  assert.equal(await set.exited, 0, set.output());
  assert.match(set.output(), /Registration lock on/);
  assert.ok(!set.output().includes('24681357'), 'the PIN is not echoed');

  await requestCode(t.url, A);
  const reg = parley(t, [
    'register',
    '--phone',
    A,
    '--code',
    t.code(A)!,
    '--server',
    t.url,
    '--profile',
    'newphone',
  ]);
  await reg.see('enter its PIN (10 tries left)');
  reg.type('11111111');
  await reg.see('Wrong PIN (9 tries left)');
  reg.type('24681357');
  assert.equal(await reg.exited, 0, reg.output());
  assert.match(reg.output(), /Registered \+14155556001 as primary device/);

  const shown = parley(t, ['pin', '--profile', 'newphone']);
  assert.equal(await shown.exited, 0);
  assert.match(shown.output(), /Registration lock: on \(PIN set /);
  const removed = parley(t, ['pin', 'remove', '--profile', 'newphone']);
  assert.equal(await removed.exited, 0, removed.output());
  assert.match(removed.output(), /Registration lock removed/);

  const bad = parley(t, ['pin', 'unlock', '--profile', 'newphone']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.output(), /unknown action "unlock"/);
});
