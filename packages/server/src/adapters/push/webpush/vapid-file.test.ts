import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { dataDirVapidKeys, VAPID_KEYS_FILE } from './vapid-file.js';

const subject = 'mailto:ops@parley.example';
const withDir = (run: (dir: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-vapid-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('a lone node with a subject and no keys makes a pair once, 0600, and keeps it', () =>
  withDir((dir) => {
    const first = dataDirVapidKeys({ pushVapidSubject: subject, dataDir: dir }, true);
    assert.ok(first);
    assert.equal(Buffer.from(first.publicKey, 'base64url').length, 65);
    assert.equal((statSync(join(dir, VAPID_KEYS_FILE)).mode & 0o777).toString(8), '600');
    assert.deepEqual(dataDirVapidKeys({ pushVapidSubject: subject, dataDir: dir }, true), first);
  }));

test('no subject, or keys set: no file', () =>
  withDir((dir) => {
    assert.equal(dataDirVapidKeys({ dataDir: dir }, true), undefined);
    assert.equal(
      dataDirVapidKeys({ pushVapidSubject: subject, pushVapidPublicKey: 'x'.repeat(87), dataDir: dir }, true),
      undefined,
    );
    assert.throws(() => statSync(join(dir, VAPID_KEYS_FILE)), /ENOENT/);
  }));

test('nodes sharing a store must be given the pair; a damaged file is refused, naming it', () =>
  withDir((dir) => {
    assert.throws(
      () => dataDirVapidKeys({ pushVapidSubject: subject, dataDir: dir }, false),
      (e: unknown) =>
        e instanceof ParleyError && e.code === 'INVALID_ARGUMENT' && /pushVapidPublicKey/.test(e.message),
    );
    writeFileSync(join(dir, VAPID_KEYS_FILE), '{"publicKey":"short"}');
    assert.throws(
      () => dataDirVapidKeys({ pushVapidSubject: subject, dataDir: dir }, true),
      /vapid-keys\.json does not hold a VAPID key pair; remove it/,
    );
  }));
