import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optional, parseCommand, required } from './args.js';
import { UsageError } from './errors.js';

const spec = {
  help: 'Usage: parley x',
  options: { server: { type: 'string' }, force: { type: 'boolean' } },
} as const;

test('options, the common --profile and --help are parsed', () => {
  const p = parseCommand(spec, ['--server', 'http://h', '--profile', 'work', '--force']);
  assert.equal(optional(p.values, 'server'), 'http://h');
  assert.equal(optional(p.values, 'profile'), 'work');
  assert.equal(p.values.force, true);
  assert.equal(p.help, false);
  assert.equal(parseCommand(spec, ['-h']).help, true);
});

test('unknown options and stray positionals are usage errors that show the help', () => {
  assert.throws(
    () => parseCommand(spec, ['--nope']),
    (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /Usage: parley x/);
      return true;
    },
  );
  assert.throws(() => parseCommand(spec, ['extra']), UsageError);
  assert.throws(() => parseCommand(spec, ['--server']), UsageError);
  assert.deepEqual(parseCommand({ ...spec, maxPositionals: 2 }, ['remove', 'd1']).positionals, [
    'remove',
    'd1',
  ]);
});

test('--help wins over other mistakes in positionals', () => {
  assert.equal(parseCommand(spec, ['extra', '--help']).help, true);
});

test('required options must be present and non-empty', () => {
  const p = parseCommand(spec, ['--server', ' ']);
  assert.throws(() => required(p.values, 'server'), /missing --server/);
  assert.throws(() => required(p.values, 'phone'), UsageError);
});
