import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageKind } from '@parley/sdk';
import { effectLines, entryLine, fileLabel, reactionsLine, statusLine, tick } from './format-message.js';
import { type LogInput, logInput, MessageLog, reactionSummary } from './message-log.js';

function msg(
  seq: number,
  sender: string,
  text: string,
  meta: { type?: MessageKind; refSeq?: number; reaction?: string; forwardCount?: number } = {},
  extra: Partial<LogInput> = {},
): LogInput {
  return {
    chatId: 'c1',
    seq,
    senderUserId: sender,
    text,
    meta: {
      type: meta.type ?? 'message',
      refSeq: meta.refSeq ?? 0,
      reaction: meta.reaction ?? '',
      mentions: [],
      forwardCount: meta.forwardCount ?? 0,
    },
    forwardedMany: false,
    deleted: false,
    ...extra,
  };
}

const name = (id: string) => (id === 'me' ? 'you' : id);

test('edits, deletes and reactions change the message they name', () => {
  const log = new MessageLog('me');
  const first = log.apply(msg(2, 'bob', 'hi'));
  assert.equal(first.kind, 'message');
  assert.deepEqual(effectLines('Bob', name, first, 'bob'), ['[Bob] #2 bob: hi']);

  const edit = log.apply(msg(3, 'bob', 'hello', { type: 'edit', refSeq: 2 }));
  assert.deepEqual(effectLines('Bob', name, edit, 'bob'), ['[Bob] #2 bob: hello (edited)']);

  const r1 = log.apply(msg(4, 'me', '', { type: 'reaction', refSeq: 2, reaction: '👍' }));
  log.apply(msg(5, 'carol', '', { type: 'reaction', refSeq: 2, reaction: '👍' }));
  const r3 = log.apply(msg(6, 'dave', '', { type: 'reaction', refSeq: 2, reaction: '❤️' }));
  assert.equal(r1.kind, 'reaction');
  assert.deepEqual(effectLines('Bob', name, r3, 'dave'), ['[Bob]   #2 reactions: 👍 2  ❤️ 1']);
  // A new reaction replaces the user's old one; an empty one removes it.
  log.apply(msg(7, 'carol', '', { type: 'reaction', refSeq: 2, reaction: '' }));
  log.apply(msg(8, 'me', '', { type: 'reaction', refSeq: 2, reaction: '❤️' }));
  assert.equal(reactionSummary(log.get('c1', 2)!.reactions), '❤️ 2');

  const del = log.apply(msg(9, 'bob', '', { type: 'delete', refSeq: 2 }));
  assert.deepEqual(effectLines('Bob', name, del, 'bob'), ['[Bob] #2 bob: [deleted]']);
  assert.equal(log.newest('c1'), 2); // only messages are kept, not the changes
});

test('changes to messages not seen still show something', () => {
  const log = new MessageLog('me');
  const edit = log.apply(msg(3, 'bob', 'new', { type: 'edit', refSeq: 1 }));
  assert.deepEqual(effectLines('B', name, edit, 'bob'), ['[B] #1 bob: new (edited)']);
  const react = log.apply(msg(4, 'bob', '', { type: 'reaction', refSeq: 1, reaction: '🎉' }));
  assert.deepEqual(effectLines('B', name, react, 'bob'), ['[B]   #1 bob reacted 🎉']);
  const unreact = log.apply(msg(5, 'bob', '', { type: 'reaction', refSeq: 1 }));
  assert.deepEqual(effectLines('B', name, unreact, 'bob'), ['[B]   #1 bob removed a reaction']);
  const del = log.apply(msg(6, 'bob', '', { type: 'delete', refSeq: 1 }));
  assert.deepEqual(effectLines('B', name, del, 'bob'), ['[B] #1 [deleted]']);
});

test('replies, forwards and own messages with ticks', () => {
  const log = new MessageLog('me');
  const reply = log.apply(msg(5, 'bob', 'yes', { refSeq: 4 }));
  assert.deepEqual(effectLines('G', name, reply, 'bob'), ['[G] #5 bob: (reply to #4) yes']);
  const fwd = log.apply(msg(6, 'bob', 'news', { forwardCount: 1 }));
  assert.deepEqual(effectLines('G', name, fwd, 'bob'), ['[G] #6 bob: (forwarded) news']);
  const many = log.apply(msg(7, 'bob', 'viral', { forwardCount: 9 }, { forwardedMany: true }));
  assert.deepEqual(effectLines('G', name, many, 'bob'), ['[G] #7 bob: (forwarded many times) viral']);

  const mine = log.sent(msg(8, 'me', 'mine'));
  assert.deepEqual(effectLines('G', name, mine, 'me'), ['[G] #8 you: mine ✓']);
  assert.deepEqual(
    log.pendingOwn('c1').map((e) => e.seq),
    [8],
  );
  log.get('c1', 8)!.status = 'read';
  assert.deepEqual(log.pendingOwn('c1'), []);
  assert.equal(statusLine('G', 8, 'delivered'), '[G]   ✓✓ message 8');
  assert.deepEqual((['sent', 'delivered', 'read'] as const).map(tick), ['✓', '✓✓', 'read']);
  // Control characters from peers never reach the terminal.
  const evil = log.apply(msg(9, 'bob\u001b[2J', '\u001b[31mred'));
  assert.ok(evil.kind === 'message');
  assert.equal(entryLine('G', 'bob\u001b', evil.entry), '[G] #9 bob\ufffd: \ufffd[31mred');
  assert.equal(reactionsLine('G', 9, new Map()), '[G]   #9 reactions: no reactions');
});

test('a decrypted file shows its name, size and how to save it; an edit keeps the file', () => {
  const log = new MessageLog('me');
  const pointer = {
    mediaId: 'a'.repeat(64),
    key: new Uint8Array(64),
    digest: new Uint8Array(32),
    size: 12_595,
    name: 'plan.pdf',
    mime: 'application/pdf',
  };
  const received = logInput({
    chatId: 'c1',
    seq: 4,
    senderUserId: 'bob',
    senderDeviceId: 'd',
    clientMessageId: 'm4',
    serverTime: 4,
    meta: { type: 'message', refSeq: 0, reaction: '', mentions: [], forwardCount: 0 },
    forwardedMany: false,
    deleted: false,
    content: { attachment: pointer },
  });
  assert.deepEqual(received.file, { size: 12_595, name: 'plan.pdf', mime: 'application/pdf', pointer });
  const shown = log.apply(received);
  assert.deepEqual(effectLines('B', name, shown, 'bob'), [
    '[B] #4 bob: [file plan.pdf, 12.3 KB] (/save 4 <path> to save)',
  ]);
  const edited = log.apply(msg(5, 'bob', 'the plan', { type: 'edit', refSeq: 4 }));
  assert.deepEqual(effectLines('B', name, edited, 'bob'), [
    '[B] #4 bob: [file plan.pdf, 12.3 KB] the plan (edited) (/save 4 <path> to save)',
  ]);
  // A file sent from this device has no pointer here: no /save hint.
  const mine = log.sent(msg(6, 'me', '', {}, { file: { name: 'x\u001b.bin', size: 10 } }));
  assert.deepEqual(effectLines('B', name, mine, 'me'), ['[B] #6 you: [file x\ufffd.bin, 10 B] ✓']);
  const del = log.apply(msg(7, 'bob', '', { type: 'delete', refSeq: 4 }));
  assert.deepEqual(effectLines('B', name, del, 'bob'), ['[B] #4 bob: [deleted]']);
  assert.equal(log.get('c1', 4)!.file, undefined, 'a deleted file is forgotten');
});

test('kept messages are restored without replacing newer ones, listed in order, and removed', () => {
  const log = new MessageLog('me');
  log.apply(msg(3, 'bob', 'live'));
  const old = new MessageLog('me');
  old.apply(msg(2, 'bob', 'older'));
  old.apply(msg(3, 'bob', 'stale'));
  log.restore(old.entries('c1'));
  assert.deepEqual(
    log.entries('c1').map((e) => [e.seq, e.text]),
    [
      [2, 'older'],
      [3, 'live'],
    ],
  );
  log.remove('c1', 2);
  assert.deepEqual(
    log.entries('c1').map((e) => e.seq),
    [3],
  );
});

test('a file label shows the kind, size, dimensions, duration and thumbnail its pointer tells', () => {
  const photo = { name: 'photo.jpg', mime: 'image/jpeg', size: 2_200_000 };
  assert.equal(fileLabel(photo), '[📷 photo.jpg, 2.1 MB]');
  assert.equal(
    fileLabel({ ...photo, preview: { width: 4032, height: 3024, thumbnail: { width: 320, height: 240 } } }),
    '[📷 photo.jpg, 2.1 MB, 4032×3024, thumbnail 320×240]',
  );
  assert.equal(
    fileLabel({
      name: 'trip.mp4',
      mime: 'video/mp4',
      size: 20 * 1024 * 1024,
      preview: { width: 1920, height: 1080, durationMs: 3_725_400, thumbnail: { width: 320, height: 180 } },
    }),
    '[🎬 trip.mp4, 20.0 MB, 1920×1080, 1:02:05, thumbnail 320×180]',
  );
  assert.equal(
    fileLabel({ name: 'note.ogg', mime: 'audio/ogg', size: 12_288, preview: { durationMs: 7_400 } }),
    '[🎤 note.ogg, 12.0 KB, 0:07]',
  );
  assert.equal(
    fileLabel({ name: 'plan.pdf', mime: 'application/pdf', size: 12_595 }),
    '[file plan.pdf, 12.3 KB]',
  );
});
