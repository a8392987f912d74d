import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSendLine } from './send-input.js';

test('a line names a chat or a phone number, and the text', () => {
  assert.deepEqual(parseSendLine('{"chatId":"c_1","text":"hi"}'), { chatId: 'c_1', text: 'hi' });
  assert.deepEqual(parseSendLine('{"to":"+15550001111","text":"yo","extra":1}'), {
    to: '+15550001111',
    text: 'yo',
  });
});

test('bad lines are refused with a short reason', () => {
  assert.throws(() => parseSendLine('nope'), /not valid JSON/);
  assert.throws(() => parseSendLine('[1]'), /JSON object/);
  assert.throws(() => parseSendLine('{"chatId":"c"}'), /"text"/);
  assert.throws(() => parseSendLine('{"chatId":"c","text":""}'), /"text"/);
  assert.throws(() => parseSendLine('{"text":"x"}'), /exactly one/);
  assert.throws(() => parseSendLine('{"chatId":"c","to":"+1","text":"x"}'), /exactly one/);
});
