import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { summariseAllocations } from './alloc-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

it('sums the sampled bytes of each function over every path it was called on, largest first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alloc-profile-'));
  try {
    const path = join(dir, 'ALLOC.1.heapprofile');
    const url = `file://${process.cwd()}/x/service.js`;
    const send = (selfSize: number) => ({
      callFrame: frame('send', url, 9),
      selfSize,
      children: [],
    });
    writeFileSync(
      path,
      JSON.stringify({
        head: {
          callFrame: frame('(root)'),
          selfSize: 0,
          children: [
            {
              callFrame: frame('dispatch', 'file:///x/dispatch.js', 4),
              selfSize: 300,
              children: [send(500)],
            },
            { callFrame: frame('(V8 API)'), selfSize: 100, children: [] },
            { callFrame: frame('flush', 'file:///x/ack.js', 1), selfSize: 0, children: [send(100)] },
          ],
        },
      }),
    );
    const s = summariseAllocations(path);
    assert.equal(s.totalBytes, 1000);
    assert.deepEqual(
      s.top.map((t) => [t.fn, t.bytes, t.pct]),
      [
        ['send', 600, 60],
        ['dispatch', 300, 30],
        ['(V8 API)', 100, 10],
      ],
    );
    assert.equal(s.top[0]!.where, 'x/service.js:10');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
