/**
 * Blocking, reporting and `parley admin` through real `parley` processes: `/report` with
 * `block` discloses the chat's recent messages and blocks the sender, whose next message stays
 * at one tick and never shows; `/blocked`, `/unblock` and `/block` work; then `parley admin`
 * processes, on the running node's SQLite store, list and show the report with phone numbers,
 * resolve it, suspend the sender (whose chat is disconnected for good), show stats and the
 * audit, and lift the suspension.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { useTestNode } from './testing/node.js';
import { saveTestProfile, useParleyProcesses } from './testing/processes.js';

const { chat: chatOf, parley } = useParleyProcesses();
const t = useTestNode('parley-moderation-');
const chat = (name: string) => chatOf(t, name);

async function admin(...args: string[]): Promise<{ code: number | null; out: string }> {
  const p = parley(t, ['admin', ...args, '--data-dir', join(t.dir, 'node')]);
  const code = await p.exited;
  return { code, out: p.output() };
}

test('/report with block, /blocked, /unblock, /block, then parley admin on the running node', async () => {
  const A = '+14155557101';
  const B = '+14155557102';
  await saveTestProfile(t, 'alice', A);
  const bob = await saveTestProfile(t, 'bob', B);
  const alice = chat('alice');
  const bobChat = chat('bob');
  await Promise.all([alice.see('Connected as'), bobChat.see('Connected as')]);
  bobChat.type(`/new ${A}`);
  await bobChat.see(`Opened ${A}`);
  bobChat.type('buy cheap pills now');
  await alice.see(/#2 \S+: buy cheap pills now\n/, "bob's message");
  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);

  let from = alice.output().length;
  alice.type('/report spam block sells pills');
  await alice.see(
    /Reported \((r_[\w-]+)\) with the last 1 message from others in this chat\. \S+ is blocked\./,
    'the report',
    from,
  );
  const reportId = /Reported \((r_[\w-]+)\)/.exec(alice.output().slice(from))![1]!;

  // Bob's next message is acknowledged (one tick) and never reaches Alice.
  from = bobChat.output().length;
  bobChat.type('are you there?');
  await bobChat.see(/#3 you: are you there\? ✓\n/, 'one tick for the blocked sender', from);
  from = alice.output().length;
  alice.type('/blocked');
  await alice.see(/blocked: \S+/, 'the block list', from);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!alice.output().includes('are you there?'), 'the withheld message is not shown');
  alice.type('hello?');
  await alice.see(
    'you blocked this user; unblock them to send',
    'sending to a blocked user is refused',
    from,
  );
  alice.type(`/unblock ${B}`);
  await alice.see('Unblocked', '/unblock', from);
  alice.type('/block');
  await alice.see('Blocked', '/block of the open direct chat', from);
  alice.type('/report nonsense');
  await alice.see('the reason is one of spam, harassment', 'a bad reason', from);

  // parley admin, as separate processes, against the node's store while it runs.
  const top = parley(t, ['--help']);
  assert.equal(await top.exited, 0);
  assert.match(top.output(), /admin {6}moderation against the node's store/, 'parley --help lists admin');
  const help = await admin('--help');
  assert.equal(help.code, 0);
  for (const sub of ['reports', 'report <id>', 'resolve <id>', 'suspend', 'unsuspend', 'stats', 'audit'])
    assert.ok(help.out.includes(sub), `--help lists ${sub}`);
  const list = await admin('reports', '--status', 'open');
  assert.equal(list.code, 0, list.out);
  assert.match(
    list.out,
    new RegExp(`${reportId}\\s+open .* spam .* by \\${A} \\(u_[\\w-]+\\)\\s+about \\${B}`),
  );
  const one = await admin('report', reportId);
  assert.equal(one.code, 0, one.out);
  assert.match(one.out, /detail +sells pills/);
  assert.match(one.out, new RegExp(`#2 .* \\${B} \\(u_[\\w-]+\\): buy cheap pills now`));

  const suspended = await admin('suspend', B, '--reason', 'spam');
  assert.equal(suspended.code, 0, suspended.out);
  assert.match(suspended.out, new RegExp(`suspended \\${B} \\(${bob.userId}\\)`));
  assert.match(suspended.out, /"action":"suspend"/, 'the action is logged (stderr), structured');
  await bobChat.see('this account was suspended', 'bob is disconnected for good');
  assert.equal(await bobChat.exited, 1);
  const again = chat('bob');
  await again.see('account is suspended', 'a suspended account cannot connect');

  const stats = await admin('stats', '--json');
  const s = JSON.parse(stats.out.slice(stats.out.indexOf('{'), stats.out.lastIndexOf('}') + 1));
  assert.deepEqual([s.accounts, s.reports, s.openReports, s.suspended], [2, 1, 1, 1]);
  assert.ok(s.messages >= 3 && s.devices === 2 && s.chats === 1);

  const resolved = await admin('resolve', reportId, '--note', 'suspended');
  assert.match(resolved.out, new RegExp(`resolved ${reportId}`));
  assert.match((await admin('reports', '--status', 'open')).out, /no reports/);
  const lifted = await admin('unsuspend', bob.userId);
  assert.match(lifted.out, /unsuspended/);
  const audit = await admin('audit');
  assert.match(audit.out, /unsuspend/);
  assert.match(audit.out, new RegExp(`resolve\\s+${reportId}`));
  assert.match(audit.out, /suspend .*"reason":"spam"/);
  assert.ok(!audit.out.includes('pills'), 'the audit holds no message content');

  const bad = await admin('suspend', '+14155550000');
  assert.equal(bad.code, 1);
  assert.match(bad.out, /no account/);
  assert.equal((await admin('frobnicate')).code, 2);
  assert.equal((await admin('reports', '--status', 'maybe')).code, 2);
  assert.equal((await admin('reports', '--limit', '0')).code, 2);
  await Promise.all([alice.quit(), again.quit()]);
});
