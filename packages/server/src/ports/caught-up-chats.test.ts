import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaughtUpChats, type ChatId, caughtUpSeq } from './types.js';

const id = (s: string) => s as ChatId;

describe('CaughtUpChats', () => {
  it('finds every chat of a sorted string, prefixes of each other included, and nothing else', () => {
    const ids = Array.from({ length: 1200 }, (_, i) => `c${i}`).sort();
    const seqs = new Map(ids.map((c, i) => [c, (i * 7919) % 1000]));
    const chats = new CaughtUpChats(ids.map((c) => `\n${c}\t${seqs.get(c)}`).join(''));
    for (const c of ids) assert.equal(chats.seqOf(id(c)), seqs.get(c), c);
    for (const c of ['', 'c', 'c1200', 'c00', 'b', 'd', 'c1\t', 'c12x']) {
      assert.equal(chats.seqOf(id(c)), undefined, JSON.stringify(c));
    }
  });

  it('entries out of order are still found, through a map', () => {
    const chats = new CaughtUpChats('\nc2\t5\nc10\t7\nb\t1');
    assert.deepEqual(
      ['c2', 'c10', 'b', 'c1'].map((c) => chats.seqOf(id(c))),
      [5, 7, 1, undefined],
    );
  });

  it('answers undefined for an empty string and reads a single entry', () => {
    assert.equal(new CaughtUpChats('').seqOf(id('g')), undefined);
    assert.equal(caughtUpSeq('\ng\t12', id('g')), 12);
    assert.equal(caughtUpSeq('\ng\t12', id('h')), undefined);
  });
});
