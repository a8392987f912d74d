import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ChatMembers } from '../chat/directory.js';
import type { DeviceId, Role, UserId } from '../ports/types.js';
import { PushRegistry } from './registry.js';

const u = (s: string) => s as UserId;
const d = (s: string) => s as DeviceId;
const members = (...users: string[]) =>
  new ChatMembers(
    'group',
    users.map(u),
    users.map(() => 'member' as Role),
    false,
  );

it('names registered, unconnected devices of the members other than the sender, with mentions', () => {
  const r = new PushRegistry();
  r.add(d('a1'), u('a'));
  r.add(d('b1'), u('b'));
  r.add(d('b2'), u('b'));
  r.add(d('c1'), u('c'));
  const connected = (id: DeviceId) => id === 'b2';
  assert.deepEqual(r.recipients(members('a', 'b', 'x'), u('a'), connected, [u('b')]), [
    { deviceId: 'b1', userId: 'b', mentioned: true },
  ]);
  // Many members, few registrations: the registry side is walked; same answer.
  const big = members('a', 'b', ...Array.from({ length: 50 }, (_, i) => `m${i}`));
  assert.deepEqual(r.recipients(big, u('a'), connected), [{ deviceId: 'b1', userId: 'b' }]);
  r.remove(d('b1'));
  r.add(d('b2'), u('b'));
  assert.deepEqual(
    r.recipients(members('a', 'b'), u('a'), () => false),
    [{ deviceId: 'b2', userId: 'b' }],
  );
  assert.equal(r.size, 3);
  r.reset([{ deviceId: d('z1'), userId: u('z') }]);
  assert.equal(r.size, 1);
  assert.equal(r.has(d('a1')), false);
});
