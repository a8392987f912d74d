import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChatKind,
  ChatUpdateKind,
  MUTE_FOREVER,
  type ReceivedChatUpdate,
  Role,
  type SecureMessage,
} from '@parley/sdk';
import { formatError } from './errors.js';
import {
  chatListLine,
  chatUpdateJson,
  chatUpdateLine,
  decryptFailedLine,
  lastSeenText,
  messageJson,
  messageLine,
  presenceLabel,
  privacyLine,
  safetyLines,
  securityChangedLine,
  typingLine,
} from './format.js';
import { forTerminal } from './text.js';

const base = {
  chatId: 'c_1',
  seq: 7,
  senderUserId: 'u_2',
  senderDeviceId: 'd_2',
  clientMessageId: 'm',
  serverTime: 99,
};
const plainMeta = { type: 'message' as const, refSeq: 0, reaction: '', mentions: [], forwardCount: 0 };
const message: SecureMessage = {
  ...base,
  content: { text: 'hé "there"' },
  meta: plainMeta,
  forwardedMany: false,
  deleted: false,
};
const update: ReceivedChatUpdate = {
  ...base,
  update: {
    kind: ChatUpdateKind.MEMBERS_ADDED,
    userIds: ['u_3'],
    name: '',
    description: '',
    chatKind: 0,
    members: [],
    role: 0,
    onlyAdminsSend: false,
    onlyAdminsEditInfo: false,
  },
};

test('listen prints messages as the documented JSON line', () => {
  assert.deepEqual(JSON.parse(messageJson(message)), {
    chatId: 'c_1',
    seq: 7,
    sender: 'u_2',
    text: 'hé "there"',
    serverTime: 99,
  });
  const pointer = { mediaId: 'f'.repeat(64), key: new Uint8Array(64), digest: new Uint8Array(32), size: 3 };
  const withFile = { ...message, content: { attachment: { ...pointer, name: 'a.txt', mime: 'text/plain' } } };
  // The file's key and digest stay out of the line.
  assert.deepEqual(JSON.parse(messageJson(withFile)), {
    chatId: 'c_1',
    seq: 7,
    sender: 'u_2',
    text: '',
    file: { name: 'a.txt', mime: 'text/plain', size: 3 },
    serverTime: 99,
  });
  assert.deepEqual(JSON.parse(chatUpdateJson(update)), {
    type: 'chatUpdate',
    chatId: 'c_1',
    seq: 7,
    sender: 'u_2',
    kind: 'MEMBERS_ADDED',
    userIds: ['u_3'],
    serverTime: 99,
  });
});

test('chat lines name the chat and the sender, and neutralize escape sequences', () => {
  assert.equal(messageLine('Family', '+15550001111', message), '[Family] +15550001111: hé "there"');
  const evil = { ...message, content: { text: '\u001b[2Jgotcha\r' } };
  assert.equal(messageLine('x', 'y', evil), '[x] y: \ufffd[2Jgotcha\ufffd');
  assert.equal(forTerminal('tab\tok'), 'tab\tok');
  const names = (id: string) => (id === 'u_2' ? 'you' : id);
  assert.equal(chatUpdateLine('Family', names, update), '[Family] * you added u_3');
});

test('errors print as one line with their code and a hint', async () => {
  const { ParleyError } = await import('@parley/sdk');
  assert.equal(
    formatError(new ParleyError('RATE_LIMITED', 'slow down', { retryAfterMs: 1500 })),
    'RATE_LIMITED: slow down (retry in 2 s); try again later',
  );
  assert.equal(formatError(new Error('plain')), 'plain');
  const replaced = new ParleyError('UNAUTHENTICATED', 'replaced', { details: { closeCode: 4001 } });
  assert.equal(
    formatError(replaced),
    'UNAUTHENTICATED: replaced; another parley command is using this profile',
  );
  const { KeyStoreBusyError } = await import('@parley/sdk/node');
  assert.equal(
    formatError(new KeyStoreBusyError('/home/a/.parley/alice.keys.db')),
    'KEY_STORE_BUSY: another parley command is using this profile (/home/a/.parley/alice.keys.db)',
  );
});

test('last seen reads as today, yesterday or a date, in local time', () => {
  const now = new Date(2026, 10, 23, 18, 30).getTime();
  assert.equal(lastSeenText(new Date(2026, 10, 23, 9, 5).getTime(), now), 'last seen today at 09:05');
  assert.equal(lastSeenText(new Date(2026, 10, 22, 23, 59).getTime(), now), 'last seen yesterday at 23:59');
  assert.equal(lastSeenText(new Date(2026, 10, 21, 7, 0).getTime(), now), 'last seen 2026-11-21 07:00');
  // Across a month boundary.
  const first = new Date(2026, 11, 1, 8, 0).getTime();
  assert.equal(lastSeenText(new Date(2026, 10, 30, 22, 15).getTime(), first), 'last seen yesterday at 22:15');
});

test('presence shows online, the last-seen time, or nothing when it is hidden', () => {
  const now = new Date(2026, 10, 23, 18, 30).getTime();
  const at = new Date(2026, 10, 23, 18, 1).getTime();
  assert.equal(presenceLabel({ userId: 'u', online: true, lastSeen: 0 }, now), 'online');
  assert.equal(presenceLabel({ userId: 'u', online: false, lastSeen: at }, now), 'last seen today at 18:01');
  assert.equal(presenceLabel({ userId: 'u', online: false, lastSeen: 0 }, now), '');
  assert.equal(presenceLabel(undefined, now), '');
});

test('typing and privacy lines', () => {
  assert.equal(typingLine('Family', '+15550001111'), '[Family] +15550001111 is typing...');
  assert.equal(typingLine('x\u001b[2J', 'y'), '[x\ufffd[2J] y is typing...');
  assert.equal(
    privacyLine('nobody'),
    "Your last seen is hidden from everyone, and you don't see anyone else's. Whether you are online stays visible in shared chats.",
  );
  assert.match(privacyLine('contacts'), /^Your last seen is visible to your contacts only/);
  assert.match(privacyLine('everyone'), /^Your last seen is visible to everyone you share a chat with\./);
});

test('/chats lines show unread counts and mark the open chat', () => {
  const chat = { id: 'c_9', kind: ChatKind.GROUP, members: [], unreadCount: 3 };
  assert.equal(chatListLine(2, 'Fam', chat, true, 0), '*  2. Fam (group, 0 members) 3 unread c_9');
  assert.equal(
    chatListLine(1, 'Fam', { ...chat, unreadCount: 0 }, false, 0),
    '   1. Fam (group, 0 members) c_9',
  );
});

test('/chats lines show a mute still in force, with its end or for good', () => {
  const now = new Date(2026, 11, 5, 10, 0).getTime();
  const chat = { id: 'c_9', kind: ChatKind.DIRECT, members: [], unreadCount: 2 };
  const at = (h: number, day = 5) => new Date(2026, 11, day, h, 0).getTime();
  assert.equal(
    chatListLine(1, 'Ann', { ...chat, mutedUntil: at(18) }, false, now),
    '   1. Ann (direct) 2 unread 🔇 until 18:00 c_9',
  );
  assert.equal(
    chatListLine(1, 'Ann', { ...chat, mutedUntil: at(9, 12) }, false, now),
    '   1. Ann (direct) 2 unread 🔇 until 2026-12-12 09:00 c_9',
  );
  assert.equal(
    chatListLine(1, 'Ann', { ...chat, mutedUntil: MUTE_FOREVER }, false, now),
    '   1. Ann (direct) 2 unread 🔇 muted c_9',
  );
  assert.equal(
    chatListLine(1, 'Ann', { ...chat, mutedUntil: at(9) }, false, now),
    '   1. Ann (direct) 2 unread c_9',
    'a mute that has ended shows nothing',
  );
});

test('role, settings and invite updates read as sentences', () => {
  const names = (id: string) => id;
  const u = (kind: ChatUpdateKind, extra: object = {}): ReceivedChatUpdate => ({
    ...update,
    update: { ...update.update, kind, ...extra },
  });
  assert.equal(
    chatUpdateLine('G', names, u(ChatUpdateKind.ROLE_CHANGED, { role: Role.ADMIN })),
    '[G] * u_2 made u_3 an admin',
  );
  assert.equal(
    chatUpdateLine('G', names, u(ChatUpdateKind.SETTINGS_CHANGED, { userIds: [], onlyAdminsSend: true })),
    '[G] * u_2 set: only admins can send, everyone can edit the group info',
  );
  assert.equal(
    chatUpdateLine('G', names, u(ChatUpdateKind.JOINED_BY_INVITE)),
    '[G] * u_3 joined with an invite code',
  );
  const call = (c: object) =>
    u(ChatUpdateKind.CALL, { call: { callId: 'k1', video: false, durationMs: 0, ...c } });
  assert.equal(
    chatUpdateLine('A', names, call({ reason: 'hangup', durationMs: 192_400, video: true })),
    '[A] * video call from u_2, 3:12',
  );
  assert.equal(
    chatUpdateLine('A', names, call({ reason: 'unanswered' })),
    '[A] * missed voice call from u_2',
  );
  assert.equal(
    chatUpdateLine('A', names, call({ reason: 'declined' })),
    '[A] * voice call from u_2, declined',
  );
});

test('safety numbers show as three rows of four groups; security and decrypt warnings', () => {
  const digits = Array.from({ length: 12 }, (_, i) => String(i).padStart(5, '0')).join(' ');
  const lines = safetyLines('+15550001111', digits);
  assert.deepEqual(lines.slice(0, 4), [
    'Safety number for you and +15550001111:',
    '  00000 00001 00002 00003',
    '  00004 00005 00006 00007',
    '  00008 00009 00010 00011',
  ]);
  assert.match(
    lines.slice(4).join(' '),
    /Compare it with the one \+15550001111 sees \(\/safety on their side\)/,
  );
  assert.equal(
    securityChangedLine('+15550001111'),
    '! security code with +15550001111 changed — compare /safety +15550001111',
  );
  assert.equal(decryptFailedLine(12, 'u_\u001b9'), '! could not decrypt message #12 from u_\ufffd9');
  assert.equal(decryptFailedLine(3, 'u_9', 'Club'), '! could not decrypt message #3 from u_9 in Club');
  assert.equal(
    decryptFailedLine(4, 'u_9', undefined, true),
    '! could not decrypt message #4 from u_9 (asked the sender to send it again)',
  );
});
