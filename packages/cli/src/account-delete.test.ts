/**
 * `parley account delete` as a real process against a node on loopback: it asks for the
 * typed confirmation and the SMS code, deletes the account, and removes the local profile;
 * without the confirmation nothing is deleted.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { listDevices } from '@parley/sdk';
import { main } from './dispatch.js';
import { profilePaths } from './profile.js';
import { useTestNode } from './testing/node.js';
import { homeOf, saveTestProfile, useParleyProcesses } from './testing/processes.js';

const { parley } = useParleyProcesses();
const t = useTestNode('parley-account-delete-');
const PHONE = '+14155556001';

test('parley account delete asks to confirm, then for the code, and deletes the account and its profile', async () => {
  const profile = await saveTestProfile(t, 'dan', PHONE);

  const refused = parley(t, ['account', 'delete', '--profile', 'dan']);
  await refused.see('Type DELETE to confirm');
  refused.type('no');
  assert.equal(await refused.exited, 1);
  assert.match(refused.output(), /nothing was deleted/);
  assert.equal((await listDevices(profile)).length, 1, 'the account is still there');

  const p = parley(t, ['account', 'delete', '--profile', 'dan']);
  await p.see('Type DELETE to confirm');
  p.type('DELETE');
  await p.see('Code: ');
  p.type(t.codeOf(PHONE)!);
  assert.equal(await p.exited, 0, p.output());
  assert.match(p.output(), /Deleted account/);
  await assert.rejects(listDevices(profile), { code: 'UNAUTHENTICATED' });
  assert.equal(existsSync(profilePaths(homeOf(t), 'dan').credentials), false);
  // The number registers afresh as a new user.
  const again = await t.register(PHONE);
  assert.notEqual(again.userId, profile.userId);
});

test('parley account --help describes the command, and a missing action is a usage error', async () => {
  const p = parley(t, ['account', '--help']);
  assert.equal(await p.exited, 0);
  assert.match(p.output(), /Usage: parley account delete/);
  assert.match(p.output(), /--code CODE/);
  await assert.rejects(main(['account'], { PARLEY_HOME: '/nonexistent' }), /missing action/);
  await assert.rejects(main(['account', 'remove'], { PARLEY_HOME: '/nonexistent' }), /unknown action/);
});
