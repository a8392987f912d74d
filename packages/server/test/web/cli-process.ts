/**
 * A real `parley` command-line process for the browser tests (the CLI package's built main),
 * with its own PARLEY_HOME: stdin lines in, stdout and stderr collected for `see`.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
