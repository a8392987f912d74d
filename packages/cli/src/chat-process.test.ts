/**
 * Two real `parley chat` processes (stdin/stdout pipes) against a node on loopback: alice's
 * message shows ✓ while bob is away, then ✓✓ once his chat connects, then "read" once he
 * opens the chat.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requestCode, verifyCode } from '@parley/sdk';
import { createLogger, createNode, loadConfig, type ParleyNode } from '@parley/server';
import { profilePaths, saveProfile } from './profile.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
let node: ParleyNode;
let url = '';
let dir = '';
const codes = new Map<string, string>();
const children: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-chat-process-'));
  const cfg = loadConfig({
    overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: false, dataDir: join(dir, 'node') },
  });
  const sms = { sendCode: async (phone: string, code: string) => void codes.set(phone, code) };
  node = createNode(cfg, { sms, log: createLogger(cfg.logLevel) });
  url = `http://127.0.0.1:${await node.start()}`;
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill();
  await node.stop();
  await rm(dir, { recursive: true, force: true });
});

async function profile(name: string, phone: string): Promise<void> {
  await requestCode(url, phone);
  const creds = await verifyCode(url, { phone, code: codes.get(phone)!, deviceName: name });
  const home = join(dir, 'home');
  await saveProfile(profilePaths(home, name), { ...creds, serverUrl: url, primary: true, phone });
}

/** A `parley chat` process: lines go to its stdin, its stdout is collected. */
function chat(name: string) {
  const child = spawn(process.execPath, [MAIN, 'chat', '--profile', name], {
    env: { ...process.env, PARLEY_HOME: join(dir, 'home') },
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
