/**
 * The production configurations the docs show (deploy/parley.env.example, the node command in
 * docs/operations.md and the README) load and pass the start checks once their placeholder
 * SIDs are filled in and their secret files exist.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { checkSmsSettings } from '../adapters/sms/create-sms.js';
import { loadConfig } from './load.js';

const root = new URL('../../../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const secrets = mkdtempSync(join(tmpdir(), 'parley-example-'));
after(() => rmSync(secrets, { recursive: true, force: true }));

/** A placeholder SID (AC + 32 x) made real, and each *_FILE pointed at a file with a secret in it. */
function realise(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.endsWith('_FILE')) {
      const file = join(secrets, key);
      writeFileSync(file, `${'5e'.repeat(32)}\n`);
      out[key] = file;
    } else {
      out[key] = value.replace(/x{32}/g, '0f'.repeat(16));
    }
  }
  return out;
}

/** The variables and serve flags of the first `parley -- serve` command after `marker`. */
function serveCommand(markdown: string, marker: string): { env: Record<string, string>; argv: string[] } {
  const from = markdown.indexOf(marker);
  assert.ok(from >= 0, `"${marker}" is in the document`);
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(from))?.[1] ?? '';
  const words = block.replace(/\\\n/g, ' ').trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [k, ...v] = words.shift()!.split('=');
    env[k!] = v.join('=');
  }
  assert.deepEqual(words.slice(0, 4), ['npm', 'run', 'parley', '--']);
  assert.equal(words[4], 'serve');
  return { env, argv: words.slice(5) };
}

function assertStarts(env: Record<string, string>, argv: string[] = []): void {
  const config = loadConfig({
    env: realise(env),
    argv: argv.map((a) => a.replace(/x{32}/g, '0f'.repeat(16))),
  });
  assert.equal(config.dev, false, 'a production configuration');
  assert.notEqual(config.smsProvider, 'console');
  checkSmsSettings(config);
}

it('deploy/parley.env.example is a complete production configuration', () => {
  const env: Record<string, string> = {};
  for (const line of read('deploy/parley.env.example').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  assertStarts(env);
});

it('the node command in docs/operations.md is a complete production configuration', () => {
  const { env, argv } = serveCommand(read('docs/operations.md'), 'Start one node:');
  assertStarts(env, argv);
});

it("the README's multi-node command is a complete production configuration", () => {
  const { env, argv } = serveCommand(read('README.md'), '## More than one node');
  assertStarts(env, argv);
});
