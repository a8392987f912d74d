/**
 * Real `parley` processes for the CLI's tests: profiles saved under a test home with their
 * encryption keys published (as `parley register` does), interactive `parley chat`
 * processes driven through stdin/stdout pipes, and one-shot commands. Call
 * `useParleyProcesses()` before `useTestNode()`, so the processes end before the node stops.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '@parley/sdk';
import { type Profile, profilePaths, saveProfile } from '../profile.js';
import { publishKeys } from '../session.js';
import type { TestNode } from './node.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** The PARLEY_HOME of a test: beside the node's data. */
export const homeOf = (t: TestNode) => join(t.dir, 'home');

/** Saves a profile for `creds` (registered, or `t.register`ed here) and publishes its keys. */
export async function saveTestProfile(
  t: TestNode,
  name: string,
  phone: string,
  creds?: Credentials,
): Promise<Profile> {
  const c = creds ?? (await t.register(phone, name));
  const profile: Profile = { ...c, serverUrl: t.url, phone };
  await saveProfile(profilePaths(homeOf(t), name), profile);
  await publishKeys({ profile: name }, { PARLEY_HOME: homeOf(t) });
  return profile;
}

export interface ParleyProcess {
  child: ChildProcessWithoutNullStreams;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Writes a line to stdin. */
  type(line: string): void;
  /** Waits (10 s at most) until the output contains `s` (or matches it) at or after `from`. */
  see(s: string | RegExp, what?: string, from?: number): Promise<void>;
  /** Sends /quit (ends stdin) and waits for the exit code. */
  quit(): Promise<number | null>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function useParleyProcesses() {
  const children: ChildProcessWithoutNullStreams[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill();
  });

  /** A `parley ARGS...` process with PARLEY_HOME set to the test's home (and `env` added). */
  function parley(t: TestNode, args: string[], env: NodeJS.ProcessEnv = {}): ParleyProcess {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env, PARLEY_HOME: homeOf(t) },
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      child,
      exited,
      output: () => out,
      type: (line: string) => void child.stdin.write(`${line}\n`),
      async see(s, what = String(s), from = 0): Promise<void> {
        const deadline = Date.now() + 10_000;
        const seen = () => {
          const rest = out.slice(from);
          return typeof s === 'string' ? rest.includes(s) : s.test(rest);
        };
        while (!seen()) {
          if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; output:\n${out}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      async quit() {
        child.stdin.end('/quit\n');
        return exited;
      },
    };
  }

  return {
    parley,
    /** A `parley chat --profile NAME` process. */
    chat: (t: TestNode, name: string) => parley(t, ['chat', '--profile', name]),
  };
}

/** What `useParleyProcesses` gives a test file. */
export type ParleyProcesses = ReturnType<typeof useParleyProcesses>;
