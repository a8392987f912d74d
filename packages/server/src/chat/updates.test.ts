import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ChatUpdateKind, create, decodeChatUpdate, encodeChatUpdate, MemberSchema } from '@parley/protocol';
import fc from 'fast-check';
import type { ChatKind, Role, UserId } from '../ports/types.js';
import { createdUpdate, wireChatKind, wireRole } from './updates.js';

const str = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const chatArb = fc.record({
  kind: fc.constantFrom<ChatKind>('direct', 'group'),
  name: str,
  description: fc.oneof(str, fc.string({ maxLength: 600 })),
  members: fc.array(
    fc.record({
      userId: str.map((s) => s as UserId),
      role: fc.constantFrom<Role>('member', 'admin', 'creator'),
    }),
    { maxLength: 20 },
  ),
  now: fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat()),
});

it('the CREATED update is byte-identical to the protobuf-es encoding', () => {
  fc.assert(
    fc.property(chatArb, (chat) => {
      const reference = encodeChatUpdate({
        kind: ChatUpdateKind.CREATED,
        chatKind: wireChatKind[chat.kind],
        name: chat.name,
        description: chat.description,
        members: chat.members.map((m) =>
          create(MemberSchema, { userId: m.userId, role: wireRole[m.role], joinedAt: BigInt(chat.now) }),
        ),
      });
      const fast = createdUpdate(chat);
      assert.deepEqual(fast, reference);
      // Posted to the store thread as it is: it must not be a view into a larger buffer.
      assert.equal(fast.byteLength, fast.buffer.byteLength);
    }),
  );
});

it('a CREATED update decodes to the chat it was made from', () => {
  const u = decodeChatUpdate(
    createdUpdate({
      kind: 'group',
      name: 'Ünïcode 👋',
      description: 'd',
      members: [
        { userId: 'u_a' as UserId, role: 'creator' },
        { userId: 'u_b' as UserId, role: 'member' },
      ],
      now: 1_733_000_000_123,
    }),
  );
  assert.equal(u.kind, ChatUpdateKind.CREATED);
  assert.equal(u.name, 'Ünïcode 👋');
  assert.deepEqual(
    u.members.map((m) => [m.userId, m.role, m.joinedAt]),
    [
      ['u_a', wireRole.creator, 1_733_000_000_123n],
      ['u_b', wireRole.member, 1_733_000_000_123n],
    ],
  );
});
