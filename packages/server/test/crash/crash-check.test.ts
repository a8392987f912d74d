import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AckedSend, checkDeliveries } from './crash-check.js';

describe('crash checker', () => {
  const acked = new Map<string, AckedSend>([
    ['a', { chatId: 'c1', seq: 2 }],
    ['b', { chatId: 'c1', seq: 3 }],
    ['x', { chatId: 'c2', seq: 2 }],
  ]);
  const lastSeq = new Map([
    ['c1', 3],
    ['c2', 2],
  ]);
  const created = (chatId: string) => ({ chatId, seq: 1 });

  it('a device that got everything once, in order, has nothing to report', () => {
    const log = [
      created('c1'),
      created('c2'),
      { chatId: 'c1', seq: 2, key: 'a' },
      { chatId: 'c2', seq: 2, key: 'x' },
    ];
    log.push({ chatId: 'c1', seq: 3, key: 'b' });
    const c = checkDeliveries([log], acked, lastSeq);
    assert.deepEqual(
      [c.delivered, c.duplicates, c.outOfOrder, c.gaps, c.lost, c.seqMismatches, c.examples],
      [5, 0, 0, 0, 0, 0, []],
    );
  });

  it('counts redeliveries, late arrivals, gaps, missing acked messages and wrong seqs', () => {
    const redelivered = [
      created('c1'),
      { chatId: 'c1', seq: 2, key: 'a' },
      created('c1'),
      { chatId: 'c1', seq: 2, key: 'a' },
      { chatId: 'c1', seq: 3, key: 'b' },
      created('c2'),
      { chatId: 'c2', seq: 2, key: 'x' },
    ];
    const late = [created('c1'), { chatId: 'c1', seq: 3, key: 'b' }, { chatId: 'c1', seq: 2, key: 'a' }];
    const missing = [created('c1'), { chatId: 'c1', seq: 3, key: 'b' }, { chatId: 'c2', seq: 2, key: 'a' }];
    const c = checkDeliveries([redelivered, late, missing], acked, lastSeq);
    assert.equal(c.duplicates, 2, 'seq 1 and seq 2 of c1 arrived twice on the first device');
    assert.equal(c.outOfOrder, 1, 'seq 2 after seq 3 on the second device');
    // Second device: c2's seqs 1 and 2; third: c1 seq 2 and c2 seq 1.
    assert.equal(c.gaps, 4);
    // Second device: x; third: x (it got 'a' under c2's seq 2, which is not where 'a' was acked).
    assert.equal(c.lost, 2);
    assert.equal(c.seqMismatches, 1);
  });
});
