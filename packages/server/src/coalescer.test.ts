import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from './coalescer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(window = 20) {
  const batches: Array<Array<[string, number]>> = [];
  const failures: Array<[string, number]> = [];
  let hold: Promise<void> | undefined;
  let fail = false;
  const c = new Coalescer<string, number>(
    window,
    async (batch) => {
      if (hold) await hold;
      batches.push([...batch]);
      if (fail) throw new Error('store down');
    },
    (err, size) => failures.push([(err as Error).message, size]),
  );
  return {
    c,
    batches,
    failures,
    holdWith: (p: Promise<void> | undefined) => (hold = p),
    failNext: (f: boolean) => (fail = f),
  };
}

describe('Coalescer', () => {
  it('hands over what was added within the window as one batch, a key once with its later value', async () => {
    const { c, batches } = recorder();
    c.add('a', 1);
    c.add('b', 2);
    c.add('a', 3);
    assert.equal(batches.length, 0, 'nothing runs at once');
    await sleep(80);
    assert.deepEqual(batches, [
      [
        ['a', 3],
        ['b', 2],
      ],
    ]);
    c.add('c', 4);
    await sleep(80);
    assert.deepEqual(batches[1], [['c', 4]], 'a later add starts a new window');
  });

  it('flush runs what waits now, after the batch in progress, and runs nothing empty', async () => {
    const { c, batches, holdWith } = recorder(10_000);
    await c.flush();
    assert.equal(batches.length, 0);
    let release!: () => void;
    holdWith(new Promise<void>((r) => (release = r)));
    c.add('a', 1);
    const first = c.flush();
    c.add('b', 2); // arrives while the first batch runs
    const second = c.flush();
    holdWith(undefined);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(batches, [[['a', 1]], [['b', 2]]]);
  });

  it('forget takes a key out of the waiting batch and out of the one being run', async () => {
    const { c, batches, holdWith } = recorder(10_000);
    let release!: () => void;
    holdWith(new Promise<void>((r) => (release = r)));
    c.add('a', 1);
    c.add('b', 2);
    const running = c.flush();
    c.add('c', 3);
    c.forget('a'); // in the running batch
    c.forget('c'); // waiting
    holdWith(undefined);
    release();
    await running;
    await c.flush();
    assert.deepEqual(batches, [[['b', 2]]]);
  });

  it('a failed batch is reported with its size, and later batches still run', async () => {
    const { c, batches, failures, failNext } = recorder();
    failNext(true);
    c.add('a', 1);
    c.add('b', 2);
    await c.flush();
    assert.deepEqual(failures, [['store down', 2]]);
    failNext(false);
    c.add('c', 3);
    await c.flush();
    assert.deepEqual(batches.at(-1), [['c', 3]]);
    assert.equal(failures.length, 1);
  });

  it('a run that throws before its promise is reported the same way', async () => {
    const failures: number[] = [];
    const c = new Coalescer<string, number>(
      10,
      () => {
        throw new Error('at once');
      },
      (_err, size) => failures.push(size),
    );
    c.add('a', 1);
    await c.flush();
    assert.deepEqual(failures, [1]);
  });

  it('stop drops what waits and takes nothing more', async () => {
    const { c, batches } = recorder();
    c.add('a', 1);
    c.stop();
    c.add('b', 2);
    await sleep(80);
    await c.flush();
    assert.deepEqual(batches, []);
  });
});
