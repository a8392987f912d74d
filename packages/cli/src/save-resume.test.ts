/**
 * `/save` cut off by killing `parley chat`: bob's chat reaches the node through a slow line
 * (testing/slow-link.ts), so the chat can be SIGKILLed while its /save of a 12 MB file is
 * under way; the encrypted bytes so far are kept in bob.downloads, and a new chat's /save of
 * the same message says it resumes, fetches only the rest (counted on the line), saves the
 * same bytes and leaves no part behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { profilePaths, saveProfile } from './profile.js';
import { useTestNode } from './testing/node.js';
import { homeOf, saveTestProfile, useParleyProcesses } from './testing/processes.js';
import { startSlowLink } from './testing/slow-link.js';

const { chat: chatOf, parley } = useParleyProcesses();
const t = useTestNode('parley-save-resume-');

/** Bytes a second from the node to bob: the file takes about 3 s, so the kill lands midway. */
const RATE = 4 * 1024 * 1024;

test('/save in a chat killed midway resumes in a new chat from the kept bytes and saves the same file', async (ctx) => {
  const A = '+14155558501';
  const B = '+14155558502';
  await saveTestProfile(t, 'alice', A);
  const bobProfile = await saveTestProfile(t, 'bob', B);
  const link = await startSlowLink(t.url, RATE);
  ctx.after(() => link.close());
  const bobPaths = profilePaths(homeOf(t), 'bob');
  await saveProfile(bobPaths, { ...bobProfile, serverUrl: link.url });

  const dir = join(t.dir, 'files');
  await mkdir(join(dir, 'out'), { recursive: true });
  const file = randomBytes(12 * 1024 * 1024);
  await writeFile(join(dir, 'archive.bin'), file);
  const target = join(dir, 'out', 'copy.bin');

  const first = chatOf(t, 'bob');
  await first.see('Connected as');
  const sent = parley(t, ['send', '--profile', 'alice', '--to', B, '--file', join(dir, 'archive.bin')]);
  assert.equal(await sent.exited, 0, sent.output());
  first.type(`/new ${A}`);
  await first.see(`Opened ${A}`);
  await first.see(/#(\d+) \S+: \[file archive\.bin, 12\.0 MB\]/, 'the file');
  const seq = /#(\d+) \S+: \[file archive\.bin/.exec(first.output())![1]!;
  let from = first.output().length;
  first.type(`/save ${seq} ${target}`);
  await first.see(/archive\.bin: [3-6]\d% /, 'a third of the file downloaded', from);
  first.child.kill('SIGKILL');
  await first.exited;
  assert.doesNotMatch(first.output(), /Saved /, 'the first /save did not finish');
  assert.equal(existsSync(target), false, 'nothing saved yet');
  const parts = await readdir(bobPaths.downloads);
  assert.equal(parts.length, 1, 'the encrypted bytes so far are kept');
  const kept = (await stat(join(bobPaths.downloads, parts[0]!))).size;
  assert.ok(kept > 0 && kept < file.length, `part of the file is kept (${kept} bytes)`);

  const second = chatOf(t, 'bob');
  await second.see('Connected as');
  second.type(`/new ${A}`);
  await second.see(`Opened ${A}`);
  from = second.output().length;
  const before = link.bytesDown();
  second.type(`/save ${seq} ${target}`);
  await second.see('Saved [file archive.bin', 'saved', from);
  const fetched = link.bytesDown() - before;
  const out = second.output().slice(from);
  const resumed = /archive\.bin: resuming at ([\d.]+) MB of 12\.0 MB/.exec(out);
  assert.ok(resumed, `the second /save resumed:\n${out}`);
  assert.ok(Number(resumed[1]) >= 3 && Number(resumed[1]) < 12, `from a third or more (${resumed[1]} MB)`);
  assert.match(out, /archive\.bin: 100% 12\.0 MB of 12\.0 MB/);
  // The rest of the ciphertext, plus headers and the chat's own frames: not the whole file again.
  assert.ok(
    fetched < file.length - kept + 256 * 1024,
    `fetched ${fetched} bytes with ${kept} kept, of ${file.length}`,
  );
  assert.ok((await readFile(target)).equals(file), 'the same bytes');
  assert.deepEqual(await readdir(bobPaths.downloads), [], 'the part is gone');
  assert.equal(await second.quit(), 0);
});
