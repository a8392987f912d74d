import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CliError, UsageError } from './errors.js';
import {
  deleteProfile,
  loadProfile,
  parleyHome,
  profileExists,
  profilePaths,
  saveProfile,
} from './profile.js';

const root = await mkdtemp(join(tmpdir(), 'parley-cli-'));
after(() => rm(root, { recursive: true, force: true }));

const profile = {
  serverUrl: 'http://localhost:8080',
  userId: 'u_1',
  deviceId: 'd_1',
  token: 'secret-token',
  primary: true,
  phone: '+15550001111',
};

test('PARLEY_HOME overrides the default ~/.parley', () => {
  assert.equal(parleyHome({ PARLEY_HOME: '/x/y' }), '/x/y');
  assert.match(parleyHome({}), /\.parley$/);
});

test('profile files live under the home, named after the profile', () => {
  const p = profilePaths('/h', 'work');
  assert.deepEqual(p, {
    home: '/h',
    credentials: '/h/work.json',
    store: '/h/work.store.json',
    keys: '/h/work.keys.db',
    history: '/h/work.history.db',
    downloads: '/h/work.downloads',
  });
  for (const bad of ['', '../x', 'a/b', '.hidden', 'x'.repeat(65)]) {
    assert.throws(() => profilePaths('/h', bad), UsageError, bad);
  }
});

test('a saved profile loads back identical, in a 0600 file inside a 0700 directory', async () => {
  const paths = profilePaths(join(root, 'home'), 'default');
  assert.equal(await profileExists(paths), false);
  await saveProfile(paths, profile);
  assert.deepEqual(await loadProfile(paths, 'default'), profile);
  assert.equal((await stat(paths.credentials)).mode & 0o777, 0o600);
  assert.equal((await stat(paths.home)).mode & 0o777, 0o700);
  assert.equal(await profileExists(paths), true);
  await saveProfile(paths, { ...profile, deviceId: 'd_2' });
  assert.equal((await loadProfile(paths, 'default')).deviceId, 'd_2');
});

test('a missing profile says how to create one; a broken one names the file', async () => {
  const paths = profilePaths(join(root, 'other'), 'nobody');
  await assert.rejects(loadProfile(paths, 'nobody'), (err: Error) => {
    assert.ok(err instanceof CliError);
    assert.match(err.message, /no profile "nobody".*parley register/);
    return true;
  });
  await saveProfile(paths, profile);
  await writeFile(paths.credentials, '{"serverUrl": 1}');
  await assert.rejects(loadProfile(paths, 'nobody'), /missing fields/);
  await writeFile(paths.credentials, 'nope');
  await assert.rejects(loadProfile(paths, 'nobody'), /not valid JSON/);
});

test('deleteProfile removes the credentials, the local store, the keys, the history and kept downloads', async () => {
  const paths = profilePaths(join(root, 'del'), 'p');
  await saveProfile(paths, profile);
  await mkdir(paths.downloads);
  const part = join(paths.downloads, `${'a'.repeat(64)}.part`);
  const files = [paths.store, paths.keys, `${paths.keys}-wal`, paths.history, `${paths.history}-shm`, part];
  for (const f of files) await writeFile(f, '{}');
  await deleteProfile(paths);
  for (const f of [paths.credentials, ...files]) await assert.rejects(readFile(f), { code: 'ENOENT' }, f);
  await assert.rejects(readdir(paths.downloads), { code: 'ENOENT' }, 'the downloads directory');
});
