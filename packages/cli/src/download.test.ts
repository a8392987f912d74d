/**
 * `parley download` through real processes: a photo sent with `parley send --file` shows in
 * the recipient's `parley chat` with its kind, size, dimensions and thumbnail before /save;
 * a file's download is SIGKILLed halfway and, run again, resumes from the bytes it kept (not
 * from zero) and saves the same bytes; chats are named by phone, name or id; mistakes are one
 * clear line.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasFfmpeg, photoWithExif } from '@parley/sdk/testing';
import { useTestNode } from './testing/node.js';
import { homeOf, saveTestProfile, useParleyProcesses } from './testing/processes.js';

const { chat: chatOf, parley } = useParleyProcesses();
const t = useTestNode('parley-download-');

test('a photo shows its size and thumbnail before /save; parley download killed halfway resumes and saves the same bytes', async () => {
  const A = '+14155558401';
  const B = '+14155558402';
  await saveTestProfile(t, 'alice', A);
  await saveTestProfile(t, 'bob', B);
  const dir = join(t.dir, 'files');
  await mkdir(join(dir, 'out'), { recursive: true });
  const marker = `SPOT-${randomBytes(4).toString('hex')}`;
  await writeFile(join(dir, 'photo.jpg'), await photoWithExif({ width: 1600, height: 1200, marker }));
  const file = randomBytes(12 * 1024 * 1024);
  await writeFile(join(dir, 'archive.bin'), file);

  const bob = chatOf(t, 'bob');
  await bob.see('Connected as');
  for (const name of ['photo.jpg', 'archive.bin']) {
    const sent = parley(t, ['send', '--profile', 'alice', '--to', B, '--file', join(dir, name)]);
    assert.equal(await sent.exited, 0, sent.output());
  }
  bob.type(`/new ${A}`);
  await bob.see(`Opened ${A}`);
  await bob.see(
    /#(\d+) \S+: \[📷 photo\.jpg, [\d.]+ KB, 1200×1600, thumbnail 240×320\] \(\/save \d+/,
    'the photo',
  );
  await bob.see(/#(\d+) \S+: \[file archive\.bin, 12\.0 MB\]/, 'the file');
  const photoSeq = /#(\d+) \S+: \[📷 photo\.jpg/.exec(bob.output())![1]!;
  const fileSeq = /#(\d+) \S+: \[file archive\.bin/.exec(bob.output())![1]!;
  assert.equal(await bob.quit(), 0);

  // The photo by the chat's name (the phone number, as bob's chat shows it): no metadata left.
  const photo = parley(t, ['download', '--profile', 'bob', A, photoSeq, '--out', join(dir, 'out')]);
  assert.equal(await photo.exited, 0, photo.output());
  assert.match(photo.output(), /Saved \[📷 photo\.jpg, .*\] to .*photo\.jpg\./);
  assert.equal((await readFile(join(dir, 'out', 'photo.jpg'))).includes(marker), false, 'no EXIF');

  // The file, slowly, killed past half way.
  const args = ['download', '--profile', 'bob', A, fileSeq, '--out', join(dir, 'out', 'copy.bin')];
  const first = parley(t, [...args, '--limit-rate', '4M']);
  await first.see(/archive\.bin: [5-8]\d% /, 'half of the file downloaded');
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(existsSync(join(dir, 'out', 'copy.bin')), false, 'nothing saved yet');
  const parts = await readdir(join(homeOf(t), 'bob.downloads'));
  assert.equal(parts.length, 1, 'the encrypted bytes so far are kept');

  const second = parley(t, args);
  assert.equal(await second.exited, 0, second.output());
  const resumed = /archive\.bin: resuming at ([\d.]+) MB of 12\.0 MB/.exec(second.output());
  assert.ok(resumed, `the second run resumed:\n${second.output()}`);
  assert.ok(Number(resumed[1]) >= 5 && Number(resumed[1]) < 12, `from past half (${resumed[1]} MB)`);
  assert.match(second.output(), /archive\.bin: 100% 12\.0 MB of 12\.0 MB/);
  assert.ok((await readFile(join(dir, 'out', 'copy.bin'))).equals(file), 'the same bytes');
  assert.deepEqual(await readdir(join(homeOf(t), 'bob.downloads')), [], 'the part is gone');

  // Mistakes: one line each, nothing written.
  for (const [argv, message] of [
    [['download', '--profile', 'bob', A, '9999'], /no message #9999 of/],
    [['download', '--profile', 'bob', 'nobody', '1'], /no chat "nobody"/],
    [['download', '--profile', 'bob', A, 'x'], /not a message number: x/],
    [[...args], /copy\.bin exists: give another --out/],
    [['download', '--profile', 'bob', A, fileSeq, '--limit-rate', 'fast'], /--limit-rate is bytes a second/],
  ] as const) {
    const p = parley(t, [...argv]);
    assert.notEqual(await p.exited, 0, argv.join(' '));
    assert.match(p.output(), message, p.output());
  }
});

test('/file of a video sends its poster frame: both chats show its size, duration and thumbnail', {
  skip: hasFfmpeg() || process.env.CI ? false : 'ffmpeg is not installed',
}, async () => {
  const A = '+14155558411';
  const B = '+14155558412';
  await saveTestProfile(t, 'carol', A);
  await saveTestProfile(t, 'dan', B);
  const clip = join(t.dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10', '-t', '3'],
    ...['-pix_fmt', 'yuv420p', clip],
  ]);
  const dan = chatOf(t, 'dan');
  await dan.see('Connected as');
  const carol = chatOf(t, 'carol');
  await carol.see('Connected as');
  carol.type(`/new ${B}`);
  await carol.see(`Opened ${B}`);
  carol.type(`/file ${clip}`);
  const line = /\[🎬 clip\.mp4, [\d.]+ KB, 640×360, 0:03, thumbnail 320×180\]/;
  await carol.see(line, 'carol’s own line');
  dan.type(`/new ${A}`);
  await dan.see(`Opened ${A}`);
  await dan.see(line, 'dan sees it before saving');
  assert.equal(await dan.quit(), 0);
  assert.equal(await carol.quit(), 0);
});
