/**
 * A file upload cut off by killing the client, on whichever media store the test node has:
 * `parley send --file` is SIGKILLed once the server holds half of the file; run again, it
 * encrypts the file the same way, resumes from the server's offset (not from zero) and sends
 * it, and the recipient's `parley chat` saves the same bytes. Progress goes to stderr as the
 * file goes up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestNode } from './node.js';
import { type ParleyProcesses, saveTestProfile } from './processes.js';

export async function killedUploadResumes(
  t: TestNode,
  run: ParleyProcesses,
  o: { phones: [string, string]; chunkBytes: number },
): Promise<void> {
  const [A, B] = o.phones;
  await saveTestProfile(t, 'alice', A);
  await saveTestProfile(t, 'bob', B);
  const dir = join(t.dir, 'files');
  await mkdir(join(dir, 'out'), { recursive: true });
  // A video as far as its first bytes go (the receiver checks the type): an MP4 ftyp box.
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
  const file = Buffer.concat([ftyp, randomBytes(20 * 1024 * 1024 - ftyp.length)]);
  await writeFile(join(dir, 'trip.mp4'), file);
  const env = { PARLEY_UPLOAD_CHUNK_BYTES: String(o.chunkBytes) };
  const args = ['send', '--profile', 'alice', '--to', B, '--file', join(dir, 'trip.mp4')];

  const first = run.parley(t, args, env);
  await first.see(/trip\.mp4: [5-9]\d% /, 'half of the file on the server');
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(!first.output().includes('"seq"'), `the first run did not finish:\n${first.output()}`);

  const second = run.parley(t, args, env);
  assert.equal(await second.exited, 0, second.output());
  const out = second.output();
  const resumed = /trip\.mp4: resuming at ([\d.]+) MB of 20\.0 MB/.exec(out);
  assert.ok(resumed, `the second run resumed:\n${out}`);
  assert.ok(Number(resumed[1]) >= 9 && Number(resumed[1]) < 20, `from about half (${resumed[1]} MB)`);
  assert.match(out, /trip\.mp4: 100% 20\.0 MB of 20\.0 MB/);
  // Not a real video past its first bytes: sent without a poster frame, and it says so.
  assert.match(out, /trip\.mp4: no video thumbnail: /);
  assert.match(out, /\{"chatId":"[^"]+","seq":\d+/);

  const bob = run.chat(t, 'bob');
  await bob.see('Connected as');
  bob.type(`/new ${A}`);
  await bob.see(`Opened ${A}`);
  await bob.see(/#(\d+) \S+: \[🎬 trip\.mp4, 20\.0 MB\]/, 'the file arrives');
  const seq = /#(\d+) \S+: \[🎬 trip\.mp4/.exec(bob.output())![1]!;
  const from = bob.output().length;
  bob.type(`/save ${seq} ${join(dir, 'out')}`);
  await bob.see('Saved [🎬 trip.mp4', 'saved', from);
  assert.ok((await readFile(join(dir, 'out', 'trip.mp4'))).equals(file), 'the same bytes');
  await bob.quit();
}
