/**
 * Two real `parley chat` processes (stdin/stdout pipes) against a node on loopback: alice's
 * message shows ✓ while bob is away, then ✓✓ once his chat connects, then "read" once he
 * opens the chat.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { profilePaths, saveProfile } from './profile.js';
import { useTestNode } from './testing/node.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

// Registered first, so the chat processes end before the node stops.
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill();
});

const t = useTestNode('parley-chat-process-');

async function profile(name: string, phone: string): Promise<void> {
  const creds = await t.register(phone, name);
  const home = join(t.dir, 'home');
  await saveProfile(profilePaths(home, name), { ...creds, serverUrl: t.url, primary: true, phone });
}

/** A `parley chat` process: lines go to its stdin, its stdout is collected. */
function chat(name: string) {
  const child = spawn(process.execPath, [MAIN, 'chat', '--profile', name], {
    env: { ...process.env, PARLEY_HOME: join(t.dir, 'home') },
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  return {
    child,
    output: () => out,
    type: (line: string) => child.stdin.write(`${line}\n`),
    async see(s: string | RegExp, what = String(s)): Promise<void> {
      const deadline = Date.now() + 10_000;
      const seen = () => (typeof s === 'string' ? out.includes(s) : s.test(out));
      while (!seen()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async quit(): Promise<void> {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end('/quit\n');
      await exited;
    },
  };
}

const A = '+14155555001';
const B = '+14155555002';

test('two chat processes: ✓ while away, ✓✓ when delivered, read when opened', async () => {
  await profile('alice', A);
  await profile('bob', B);
  const alice = chat('alice');
  await alice.see('Connected as');
  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);
  alice.type('hello bob');
  await alice.see(`[${B}] #2 you: hello bob ✓\n`);

  const bob = chat('bob');
  // Bob has not discovered alice's number yet: she shows by user id.
  await bob.see(/#2 \S+: hello bob/, "bob's copy");
  await alice.see(`[${B}]   ✓✓ message 2`);
  bob.type(`/new ${A}`);
  await alice.see(`[${B}]   read message 2`);
  await bob.quit();
  await alice.quit();
  assert.equal(alice.child.exitCode, 0);
});
