import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from './dispatch.js';
import { exitCodeOf, UsageError } from './errors.js';

test('an unknown command is a usage error (exit 2)', async () => {
  await assert.rejects(main(['frobnicate'], {}), (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.equal(exitCodeOf(err), 2);
    return true;
  });
  await assert.rejects(main(['constructor'], {}), UsageError);
});

test('a bad option of a command is a usage error before anything else happens', async () => {
  await assert.rejects(main(['send', '--bogus'], {}), UsageError);
  await assert.rejects(main(['send', '--chat', 'c_1'], { PARLEY_HOME: '/nonexistent' }), /missing --text/);
  await assert.rejects(main(['register', '--phone', '+15550001111', '--link-code', 'X'], {}), /not both/);
});

test('a command without a profile says how to register', async () => {
  await assert.rejects(main(['listen'], { PARLEY_HOME: '/nonexistent/parley' }), /parley register/);
});
