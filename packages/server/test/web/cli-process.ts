/**
 * A real `parley` command-line process for the browser tests (the CLI package's built main),
 * with its own PARLEY_HOME: stdin lines in, stdout and stderr collected for `see`.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { http } from '../harness.js';
import { readCodeFromLog } from './dev-code.js';

/** packages/cli/dist/src/main.js (this file is packages/server/dist/test/web/cli-process.js). */
const CLI_MAIN = fileURLToPath(new URL('../../../../cli/dist/src/main.js', import.meta.url));

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  type(line: string): void;
  /** Waits (60 s at most: browsers share the machine) for `s` in the output after `from`. */
  see(s: string | RegExp, from?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function parley(home: string, args: string[]): CliProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, PARLEY_HOME: home } });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    exited,
    output: () => out,
    type: (line) => void child.stdin.write(`${line}\n`),
    async see(s, from = 0) {
      const deadline = Date.now() + 60_000;
      const seen = () => (typeof s === 'string' ? out.slice(from).includes(s) : s.test(out.slice(from)));
      while (!seen()) {
        if (Date.now() > deadline || child.exitCode !== null)
          assert.fail(`parley ${args[0]}: no ${String(s)} in the output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Registers `phone` with `parley register` in `home`, with the code the dev-mode node logged. */
export async function registerCli(
  home: string,
  node: { url: string; dataDir: string },
  phone: string,
  extra: string[] = [],
): Promise<void> {
  assert.equal((await http(`${node.url}/v1/auth/code`, 'POST', { phone })).status, 200);
  const reg = parley(home, [
    'register',
    '--server',
    node.url,
    '--phone',
    phone,
    '--code',
    readCodeFromLog(node.dataDir, phone),
    ...extra,
  ]);
  assert.equal(await reg.exited, 0, reg.output());
}
