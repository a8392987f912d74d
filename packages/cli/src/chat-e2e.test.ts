/**
 * End-to-end encryption through real `parley` processes against a node on loopback: chat
 * messages and files cross encrypted (the node's files never hold them in clear), safety
 * numbers agree on both sides, a restarted chat resumes its sessions and history from the
 * profile, contacts see a new device as a security code change, a device that lost its
 * keys says what it could not decrypt, and `send` and `listen` carry encrypted text (one
 * command per profile at a time). Bad input gives one clear line and the chat keeps running.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatKind, createLinkCode, linkDevice, ParleyClient } from '@parley/sdk';
import { profilePaths } from './profile.js';
import { useTestNode } from './testing/node.js';
import { homeOf, type ParleyProcess, saveTestProfile, useParleyProcesses } from './testing/processes.js';
import { secureDevice } from './testing/secure.js';

// First, so the processes end before the node stops.
const { chat: chatOf, parley } = useParleyProcesses();
const t = useTestNode('parley-chat-e2e-');
const chat = (name: string) => chatOf(t, name);

/** Every file under `dir`. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Fails if any of the node's files holds one of `secrets` (its database, WAL and media). */
async function assertNotOnNode(secrets: readonly (string | Buffer)[]): Promise<void> {
  const files = await filesUnder(join(t.dir, 'node'));
  assert.ok(
    files.some((f) => f.endsWith('.db')),
    'the node has a database',
  );
  for (const f of files) {
    const bytes = await readFile(f);
    for (const s of secrets) assert.equal(bytes.includes(s), false, `found in clear in ${f}`);
  }
}

/** The 60 digits of the first safety number printed after `from`. */
async function safetyDigits(p: ParleyProcess, from: number): Promise<string> {
  const re = /Safety number for you and \S+:\n {2}([\d ]+)\n {2}([\d ]+)\n {2}([\d ]+)\n/;
  await p.see(re, 'a safety number', from);
  const m = re.exec(p.output().slice(from))!;
  const digits = `${m[1]} ${m[2]} ${m[3]}`;
  assert.match(digits, /^(\d{5} ){11}\d{5}$/);
  return digits;
}

test('chat messages cross end-to-end encrypted; /safety shows the same digits on both sides', async () => {
  const A = '+14155556001';
  const B = '+14155556002';
  const aliceProfile = await saveTestProfile(t, 'alice', A);
  const bobProfile = await saveTestProfile(t, 'bob', B);
  const alice = chat('alice');
  const bob = chat('bob');
  await Promise.all([alice.see('Connected as'), bob.see('Connected as')]);
  const secret1 = `meet at the old mill ${randomBytes(6).toString('hex')}`;
  const secret2 = `bring the blue folder ${randomBytes(6).toString('hex')}`;
  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);
  alice.type(secret1);
  await alice.see(`[${B}] #2 you: ${secret1} ✓`);
  await bob.see(new RegExp(`\\] #2 \\S+: ${secret1}\\n`), "alice's message, decrypted");
  bob.type(`/new ${A}`);
  await bob.see(`Opened ${A}`);
  bob.type(secret2);
  await alice.see(`[${B}] #3 ${B}: ${secret2}\n`);

  // Both sides compute the same number over both users' keys.
  let from = alice.output().length;
  alice.type('/safety');
  const aliceDigits = await safetyDigits(alice, from);
  await alice.see(`Compare it with the one ${B} sees (/safety on their side)`, 'the hint', from);
  from = bob.output().length;
  bob.type(`/safety ${A}`);
  assert.equal(await safetyDigits(bob, from), aliceDigits);

  // Unknown people are clear errors, and the chat goes on.
  from = alice.output().length;
  alice.type('/safety +14155556999');
  await alice.see('! no Parley account for +14155556999', 'unknown phone', from);
  alice.type('/safety u_nobody');
  await alice.see('! no encryption keys for u_nobody', 'unknown user id', from);
  alice.type(`/safety ${A}`);
  await alice.see('! that is you', 'self', from);
  alice.type('still here');
  await bob.see(`#4 ${A}: still here`);

  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
  assert.doesNotMatch(alice.output() + bob.output(), /could not decrypt|security code/);

  // What the server stores: ciphertext only, one per device (none for the sender's own).
  const payloads: Buffer[] = [];
  for (const profile of [aliceProfile, bobProfile]) {
    const raw = new ParleyClient({ credentials: profile, receive: false });
    await raw.connect();
    const direct = (await raw.listChats()).find((c) => c.kind === ChatKind.DIRECT)!;
    const page = await raw.history(direct.id, { limit: 10 });
    await raw.close();
    for (const m of page.messages)
      if ('payload' in m && m.payload.length > 0) payloads.push(Buffer.from(m.payload));
  }
  assert.equal(payloads.length, 3, 'alice read one message, bob two');
  for (const p of payloads) {
    assert.equal(p[0], 1, 'a pairwise ciphertext');
    for (const s of [secret1, secret2, 'still here']) assert.equal(p.includes(s), false);
  }
  await assertNotOnNode([secret1, secret2]);
  // The keys and the read messages stay in the profile, for the user's eyes only.
  const paths = profilePaths(homeOf(t), 'alice');
  for (const f of [paths.keys, paths.history]) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
});

test('/file then /save round-trips a file byte for byte; bad input keeps the chat running', async () => {
  const C = '+14155556011';
  const D = '+14155556012';
  await saveTestProfile(t, 'carol', C);
  await saveTestProfile(t, 'dave', D);
  const carol = chat('carol');
  const dave = chat('dave');
  await Promise.all([carol.see('Connected as'), dave.see('Connected as')]);
  carol.type(`/new ${D}`);
  await carol.see(`Opened ${D}`);
  dave.type(`/new ${C}`);
  await dave.see(`Opened ${C}`);

  const dir = join(t.dir, 'files');
  await mkdir(join(dir, 'out'), { recursive: true });
  const marker = `PLAINTEXT-FILE-MARKER-${randomBytes(8).toString('hex')}`;
  const file = Buffer.concat([
    Buffer.from(marker),
    randomBytes(300_000 - 2 * marker.length),
    Buffer.from(marker),
  ]);
  await writeFile(join(dir, 'plan.pdf'), file);
  carol.type('here is the plan');
  carol.type(`/file ${join(dir, 'plan.pdf')}`);
  await carol.see(/#3 you: \[file plan\.pdf, 293\.0 KB\] ✓/, "carol's file line");
  await dave.see(`[${C}] #3 ${C}: [file plan.pdf, 293.0 KB] (/save 3 <path> to save)\n`);
  await dave.see(`[${C}] #2 ${C}: here is the plan\n`);

  let from = dave.output().length;
  dave.type(`/save 3 ${join(dir, 'out')}`);
  await dave.see(`Saved [file plan.pdf, 293.0 KB] to ${join(dir, 'out', 'plan.pdf')}.`, 'saved', from);
  assert.ok((await readFile(join(dir, 'out', 'plan.pdf'))).equals(file), 'the same bytes');

  // Bad input: one line each, and the chat goes on.
  dave.type(`/file ${join(dir, 'missing.txt')}`);
  await dave.see(`! no such file: ${join(dir, 'missing.txt')}`, 'missing file', from);
  dave.type(`/save 2 ${join(dir, 'out', 'x')}`);
  await dave.see('! message #2 has no file', 'no attachment', from);
  dave.type(`/save 99 ${join(dir, 'out', 'x')}`);
  await dave.see('! no message #99 on this device', 'unknown message', from);
  dave.type(`/save 3 ${join(dir, 'out')}`);
  await dave.see(`! ${join(dir, 'out', 'plan.pdf')} exists: give another path`, 'no overwrite', from);
  dave.type('/save 3');
  await dave.see('! usage: /save SEQ PATH', 'usage', from);
  dave.type('got it');
  await carol.see(`[${D}] #4 ${D}: got it`);

  from = dave.output().length;
  dave.type('/help');
  for (const c of ['/file PATH', '/save SEQ PATH', '/safety']) await dave.see(c, `/help lists ${c}`, from);

  assert.equal(await carol.quit(), 0);
  assert.equal(await dave.quit(), 0);
  await assertNotOnNode([marker, 'plan.pdf', 'here is the plan']);
});

test('a restarted chat resumes its sessions and history; a new device changes the security code', async () => {
  const E = '+14155556021';
  const F = '+14155556022';
  await saveTestProfile(t, 'erin', E);
  const frankProfile = await saveTestProfile(t, 'frank', F);
  const erin = chat('erin');
  let frank = chat('frank');
  await Promise.all([erin.see('Connected as'), frank.see('Connected as')]);
  erin.type(`/new ${F}`);
  await erin.see(`Opened ${F}`);
  erin.type('/chats');
  await erin.see(/\(direct\) (c_\S+)/, 'the chat id');
  const chatId = /\(direct\) (c_\S+)/.exec(erin.output())![1]!;
  erin.type('before the restart');
  frank.type(`/new ${E}`);
  await frank.see(`Opened ${E}`);
  await frank.see(`[${E}] #2 ${E}: before the restart\n`);
  frank.type('a reply');
  await erin.see(`[${F}] #3 ${F}: a reply\n`);
  assert.equal(await frank.quit(), 0);

  // Frank comes back: same keys, same sessions; erin's next message reads at once.
  frank = chat('frank');
  await frank.see('Connected as');
  erin.type('after the restart');
  await frank.see(`[${E}] #4 ${E}: after the restart\n`);
  // History comes from the profile, not from the server.
  frank.type('/open 1');
  await frank.see(`Opened ${E}`);
  let from = frank.output().length;
  frank.type('/history');
  await frank.see(
    `[${E}] #2 ${E}: before the restart\n[${E}] #3 you: a reply\n[${E}] #4 ${E}: after the restart\n`,
    'history',
    from,
  );
  assert.doesNotMatch(erin.output() + frank.output(), /could not decrypt|security code/);

  // Frank links a laptop: erin is told that his security code changed.
  const { code } = await createLinkCode(frankProfile);
  const laptop = await linkDevice(t.url, { code, deviceName: 'laptop' });
  await saveTestProfile(t, 'frank-laptop', F, laptop);
  erin.type('to both of your devices');
  await erin.see(`! security code with ${F} changed — compare /safety ${F}`);
  await frank.see(`[${E}] #5 ${E}: to both of your devices\n`);

  // Someone with frank's token but not his keys writes as his phone: erin is told.
  assert.equal(await frank.quit(), 0);
  const impostor = secureDevice(frankProfile);
  await impostor.client.connect();
  await impostor.secure.protocol.initKeys(1);
  from = erin.output().length;
  await impostor.secure.send(chatId, { text: 'trust me' });
  await impostor.client.close();
  await erin.see(`! security code with ${F} changed — compare /safety ${F}`, 'the new identity', from);
  await erin.see(`[${F}] #6 ${F}: trust me\n`, "the impostor's message", from);

  // Erin's session with frank's phone is now the impostor's: frank's phone cannot read her
  // next message and says so; erin's device, asked, encrypts it again from frank's published
  // keys, and it arrives.
  frank = chat('frank');
  await frank.see('Connected as');
  erin.type('can you read this');
  await frank.see(`! could not decrypt message #7 from ${E} (asked the sender to send it again)\n`);
  await frank.see(`[${E}] #7 ${E}: can you read this\n`, 'message 7, sent again');
  frank.type('/open 1');
  from = frank.output().length;
  frank.type('/history 2');
  await frank.see(`[${E}] #5 ${E}: to both of your devices\n`, 'history', from);
  assert.equal(await frank.quit(), 0);

  // Without its keys file, the profile cannot connect; the error says what to do.
  const paths = profilePaths(homeOf(t), 'frank');
  for (const suffix of ['', '-wal', '-shm']) await rm(`${paths.keys}${suffix}`, { force: true });
  frank = chat('frank');
  assert.equal(await frank.exited, 1);
  assert.match(frank.output(), /IDENTITY_KEY_MISMATCH: .*register again \(parley register --force\)/);
  assert.equal(await erin.quit(), 0);
});

test('parley send and parley listen carry encrypted text', async () => {
  const G = '+14155556031';
  const H = '+14155556032';
  await saveTestProfile(t, 'gina', G);
  await saveTestProfile(t, 'hank', H);
  const one = parley(t, ['send', '--profile', 'gina', '--to', H, '--text', 'first by flag']);
  assert.equal(await one.exited, 0, one.output());
  const { chatId } = JSON.parse(one.output()) as { chatId: string };
  const lines = parley(t, ['send', '--profile', 'gina']);
  lines.child.stdin.end(
    `${JSON.stringify({ chatId, text: 'second by line' })}\n${JSON.stringify({ to: H, text: 'third' })}\n`,
  );
  assert.equal(await lines.exited, 0, lines.output());

  const listen = parley(t, ['listen', '--profile', 'hank']);
  await listen.see('"text":"third"');
  const texts = listen
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"chatId"'))
    .map((l) => (JSON.parse(l) as { text: string }).text);
  assert.deepEqual(texts, ['first by flag', 'second by line', 'third']);
  // One command per profile: a send while hank listens stops at once, naming the profile.
  const busy = parley(t, ['send', '--profile', 'hank', '--to', G, '--text', 'not sent']);
  assert.equal(await busy.exited, 1, busy.output());
  assert.match(
    busy.output(),
    /^parley: KEY_STORE_BUSY: another parley command is using this profile \(.*hank\.keys\.db\)\n$/,
  );
  await listen.see('"text":"third"');
  assert.equal(listen.child.exitCode, null, 'the listener kept running');
  listen.child.kill('SIGINT');
  assert.equal(await listen.exited, 0);
  const after = parley(t, ['send', '--profile', 'hank', '--to', G, '--text', 'sent once free']);
  assert.equal(await after.exited, 0, after.output());
  await assertNotOnNode(['first by flag', 'second by line']);
});
