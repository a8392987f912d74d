import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatHelp, parseChatLine, tokenize } from './chat-commands.js';

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
