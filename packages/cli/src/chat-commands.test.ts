import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatHelp, parseChatLine, tokenize } from './chat-commands.js';
import { parseMuteFor } from './chat-mutes.js';

test('plain lines are messages, kept as typed', () => {
  assert.deepEqual(parseChatLine('hello  there '), { type: 'text', text: 'hello  there ' });
  assert.deepEqual(parseChatLine('   '), { type: 'empty' });
  assert.deepEqual(parseChatLine('//not a command'), { type: 'text', text: '/not a command' });
});

test('commands are parsed with their arguments; quotes group words', () => {
  assert.deepEqual(parseChatLine('/open 2'), { type: 'command', name: 'open', args: ['2'] });
  assert.deepEqual(parseChatLine('/GROUP "Family chat" +15550001111 +15550002222'), {
    type: 'command',
    name: 'group',
    args: ['Family chat', '+15550001111', '+15550002222'],
  });
  assert.deepEqual(tokenize(`a 'b c' "d"`), ['a', 'b c', 'd']);
  assert.deepEqual(parseChatLine('/privacy nobody'), { type: 'command', name: 'privacy', args: ['nobody'] });
  assert.deepEqual(parseChatLine('/privacy'), { type: 'command', name: 'privacy', args: [] });
});

test('unknown commands and wrong argument counts are explained', () => {
  assert.deepEqual(parseChatLine('/frobnicate'), {
    type: 'error',
    message: 'unknown command /frobnicate; /help lists them',
  });
  assert.deepEqual(parseChatLine('/open'), { type: 'error', message: 'usage: /open N|CHAT_ID' });
  assert.deepEqual(parseChatLine('/group OnlyName'), {
    type: 'error',
    message: 'usage: /group NAME +PHONE...',
  });
  assert.deepEqual(parseChatLine('/quit now'), { type: 'error', message: 'usage: /quit' });
  assert.deepEqual(parseChatLine('/privacy a b'), { type: 'error', message: 'usage: /privacy [WHO]' });
});

test('the help lists every command', () => {
  const all = [
    '/chats',
    '/open',
    '/new',
    '/group',
    '/add',
    '/remove',
    '/leave',
    '/privacy',
    '/help',
    '/quit',
  ];
  for (const c of all) {
    assert.ok(chatHelp().includes(c), c);
  }
});

test('message commands: the text after SEQ is kept as typed', () => {
  assert.deepEqual(parseChatLine('/reply 42  hello   "there" '), {
    type: 'command',
    name: 'reply',
    args: ['42', 'hello   "there"'],
  });
  assert.deepEqual(parseChatLine('/edit 7 fixed typo'), {
    type: 'command',
    name: 'edit',
    args: ['7', 'fixed typo'],
  });
  assert.deepEqual(parseChatLine('/reply 42'), { type: 'error', message: 'usage: /reply SEQ TEXT' });
  assert.deepEqual(parseChatLine('/react 3 👍'), { type: 'command', name: 'react', args: ['3', '👍'] });
  assert.deepEqual(parseChatLine('/react 3'), { type: 'command', name: 'react', args: ['3'] });
  assert.deepEqual(parseChatLine('/forward 3 1 2'), {
    type: 'command',
    name: 'forward',
    args: ['3', '1', '2'],
  });
  assert.deepEqual(parseChatLine('/forward 3 1 2 3 4 5 6'), {
    type: 'error',
    message: 'usage: /forward SEQ N...',
  });
  assert.deepEqual(parseChatLine('/delete 9'), { type: 'command', name: 'delete', args: ['9'] });
  assert.deepEqual(parseChatLine('/promote +15550001111'), {
    type: 'command',
    name: 'promote',
    args: ['+15550001111'],
  });
  assert.deepEqual(parseChatLine('/readreceipts off'), {
    type: 'command',
    name: 'readreceipts',
    args: ['off'],
  });
  assert.deepEqual(parseChatLine('/join ABC'), { type: 'command', name: 'join', args: ['ABC'] });
  assert.deepEqual(parseChatLine('/invite'), { type: 'command', name: 'invite', args: [] });
  for (const c of [
    '/reply',
    '/edit',
    '/delete',
    '/react',
    '/forward',
    '/promote',
    '/demote',
    '/invite',
    '/join',
  ]) {
    assert.ok(chatHelp().includes(c), c);
  }
  assert.ok(chatHelp().includes('/readreceipts'));
});

test('parses /pin, /timer and /once', () => {
  assert.deepEqual(parseChatLine('/pin 42 24h'), { type: 'command', name: 'pin', args: ['42', '24h'] });
  assert.deepEqual(parseChatLine('/timer 7d'), { type: 'command', name: 'timer', args: ['7d'] });
  assert.deepEqual(parseChatLine('/once look at this  once'), {
    type: 'command',
    name: 'once',
    args: ['look at this  once'],
  });
  assert.equal(parseChatLine('/pin').type, 'error');
});

test('parses /file, /save and /safety; the help lists them', () => {
  assert.deepEqual(parseChatLine('/file "my plan.pdf"'), {
    type: 'command',
    name: 'file',
    args: ['my plan.pdf'],
  });
  assert.deepEqual(parseChatLine('/save 12 ~/Downloads'), {
    type: 'command',
    name: 'save',
    args: ['12', '~/Downloads'],
  });
  assert.deepEqual(parseChatLine('/safety'), { type: 'command', name: 'safety', args: [] });
  assert.deepEqual(parseChatLine('/safety +15550001111'), {
    type: 'command',
    name: 'safety',
    args: ['+15550001111'],
  });
  assert.deepEqual(parseChatLine('/file'), { type: 'error', message: 'usage: /file PATH' });
  assert.deepEqual(parseChatLine('/save 12'), { type: 'error', message: 'usage: /save SEQ PATH' });
  for (const c of ['/file PATH', '/save SEQ PATH', '/safety [+PHONE|USER_ID]'])
    assert.ok(chatHelp().includes(c), c);
  assert.match(chatHelp(), /end-to-end encrypted/);
});

test('/block, /unblock, /blocked and /report parse, and /help lists them', () => {
  assert.deepEqual(parseChatLine('/block'), { type: 'command', name: 'block', args: [] });
  assert.deepEqual(parseChatLine('/block +15550001111'), {
    type: 'command',
    name: 'block',
    args: ['+15550001111'],
  });
  assert.deepEqual(parseChatLine('/unblock +15550001111'), {
    type: 'command',
    name: 'unblock',
    args: ['+15550001111'],
  });
  assert.deepEqual(parseChatLine('/blocked'), { type: 'command', name: 'blocked', args: [] });
  assert.deepEqual(parseChatLine('/report spam block sells "pills" now'), {
    type: 'command',
    name: 'report',
    args: ['spam', 'block sells "pills" now'],
  });
  assert.equal(parseChatLine('/report').type, 'error');
  assert.equal(parseChatLine('/block a b').type, 'error');
  for (const c of ['/block [+PHONE]', '/unblock [+PHONE]', '/blocked', '/report REASON [block] [TEXT]'])
    assert.ok(chatHelp().includes(c), c);
});

test('/mute, /unmute and /dnd parse, and /help lists them', () => {
  assert.deepEqual(parseChatLine('/mute'), { type: 'command', name: 'mute', args: [] });
  assert.deepEqual(parseChatLine('/mute 8h'), { type: 'command', name: 'mute', args: ['8h'] });
  assert.deepEqual(parseChatLine('/unmute'), { type: 'command', name: 'unmute', args: [] });
  assert.deepEqual(parseChatLine('/dnd off'), { type: 'command', name: 'dnd', args: ['off'] });
  assert.deepEqual(parseChatLine('/mute 8 h'), { type: 'error', message: 'usage: /mute [8h|1w|forever]' });
  assert.equal(parseChatLine('/unmute now').type, 'error');
  for (const c of ['/mute [8h|1w|forever]', '/unmute', '/dnd [8h|1w|forever|off]'])
    assert.ok(chatHelp().includes(c), c);
});

test('mute durations: minutes to weeks, forever, and nothing else', () => {
  const now = 1_700_000_000_000;
  assert.equal(parseMuteFor('8h', now), now + 8 * 3_600_000);
  assert.equal(parseMuteFor('1w', now), now + 7 * 86_400_000);
  assert.equal(parseMuteFor('30m', now), now + 30 * 60_000);
  assert.equal(parseMuteFor('2D', now), now + 2 * 86_400_000);
  assert.equal(parseMuteFor('forever', now), 'forever');
  for (const bad of ['0h', '8', 'h', '-1h', '1.5h', '60w', 'soon', ''])
    assert.equal(parseMuteFor(bad, now), undefined, bad);
});
