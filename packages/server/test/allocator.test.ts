/**
 * The allocator setting (src/allocator.ts): `parley serve` names it when it is missing, and the
 * advised `GLIBC_TUNABLES` value does what it says in a real process (glibc grows its heap by
 * the 64 MiB pad at the first `sbrk`, which /proc/<pid>/maps shows).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { allocatorAdvice, GLIBC_TUNABLES_ADVISED, glibcVersion } from '../src/allocator.js';
import { childServeFlags } from './crash/crash-run.js';

const childScript = new URL('./crash/child.js', import.meta.url).pathname;
const MiB = 1024 * 1024;

describe('allocatorAdvice', () => {
  it('names the setting on glibc without a top pad', () => {
    const advice = allocatorAdvice({}, '2.36');
    assert.match(advice ?? '', /glibc 2\.36 .*GLIBC_TUNABLES=glibc\.malloc\.top_pad=67108864/);
  });

  it('says nothing when a top pad is set, either way, or on another C library', () => {
    assert.equal(allocatorAdvice({ GLIBC_TUNABLES: GLIBC_TUNABLES_ADVISED }, '2.36'), undefined);
    assert.equal(
      allocatorAdvice({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.top_pad=1048576' }, '2.36'),
      undefined,
    );
    assert.equal(allocatorAdvice({ MALLOC_TOP_PAD_: '1048576' }, '2.36'), undefined);
    assert.equal(allocatorAdvice({}, undefined), undefined);
  });

  it('is not fooled by another tunable of a similar name', () => {
    assert.ok(allocatorAdvice({ GLIBC_TUNABLES: 'glibc.malloc.top_pad_x=1' }, '2.36'));
    assert.ok(allocatorAdvice({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1' }, '2.36'));
  });
});

/** Runs `parley serve` until it has said how it runs; its stderr and the size of its [heap] mapping. */
async function serveOnce(
  env: NodeJS.ProcessEnv,
  dataDir: string,
): Promise<{ stderr: string; heapBytes: number }> {
  const child: ChildProcess = spawn(
    process.execPath,
    // --dev: its line comes right after the allocator's, so the test waits for it, not a timer.
    [childScript, ...childServeFlags(0, dataDir)],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  try {
    const stderr = await new Promise<string>((res, rej) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('Dev mode:')) res(err);
      });
      child.once('exit', (code) => rej(new Error(`node exited (${code}) before listening: ${err}`)));
    });
    const heap = readFileSync(`/proc/${child.pid}/maps`, 'utf8')
      .split('\n')
      .find((l) => l.endsWith('[heap]'));
    const [from, to] = (heap ?? '0-0')
      .split(' ')[0]!
      .split('-')
      .map((x) => Number.parseInt(x, 16));
    return { stderr, heapBytes: to! - from! };
  } finally {
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await exited;
  }
}

describe('parley serve and the allocator', { skip: glibcVersion() === undefined && 'not on glibc' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-allocator-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { GLIBC_TUNABLES: _, MALLOC_TOP_PAD_: __, ...plain } = process.env;

  it('names the setting when it is missing, and its heap keeps no pad', async () => {
    const { stderr, heapBytes } = await serveOnce(plain, join(dir, 'a'));
    assert.match(
      stderr,
      /^Memory: glibc [0-9.]+ gives freed memory back .*GLIBC_TUNABLES=glibc\.malloc\.top_pad=67108864/m,
    );
    assert.ok(heapBytes < 64 * MiB, `heap ${heapBytes} bytes`);
  });

  it('is quiet with the advised GLIBC_TUNABLES, and glibc takes the 64 MiB pad', async () => {
    const { stderr, heapBytes } = await serveOnce(
      { ...plain, GLIBC_TUNABLES: GLIBC_TUNABLES_ADVISED },
      join(dir, 'b'),
    );
    assert.doesNotMatch(stderr, /^Memory:/m);
    assert.ok(heapBytes >= 64 * MiB, `heap ${heapBytes} bytes`);
  });
});
