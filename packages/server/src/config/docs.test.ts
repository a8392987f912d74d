import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { UPLOAD_EXPIRY_MS } from '../media/uploads.js';
import { configKeys, envName, flagName, loadConfig, settingsHelp } from './load.js';

const ops = readFileSync(new URL('../../../../../docs/operations.md', import.meta.url), 'utf8');

it('docs/operations.md lists every setting with its flag and environment name', () => {
  for (const key of configKeys) {
    assert.ok(ops.includes(`\`--${flagName(key)}\``), `--${flagName(key)} is documented`);
    assert.ok(ops.includes(`\`${envName(key)}\``), `${envName(key)} is documented`);
  }
});

it('flags win over environment, which wins over defaults', () => {
  const c = loadConfig({ env: { PARLEY_PORT: '9000', PARLEY_DATA_DIR: '/tmp/x' }, argv: ['--port', '9001'] });
  assert.equal(c.port, 9001);
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.heartbeatMs, 25_000);
});

it('a bad value fails at start naming the setting', () => {
  assert.throws(() => loadConfig({ env: { PARLEY_PORT: 'eighty' } }), /port \(--port \/ PARLEY_PORT\)/);
  assert.throws(() => loadConfig({ argv: ['--no-such-flag', '1'] }), /unknown flag --no-such-flag/);
  assert.throws(() => loadConfig({ argv: ['--sqlite-synchronous', 'SOMETIMES'] }), /sqliteSynchronous/);
});

it('--help describes every setting', () => {
  const help = settingsHelp();
  for (const key of configKeys) {
    const at = help.indexOf(`  --${flagName(key)}  ${envName(key)}`);
    assert.ok(at >= 0, `--${flagName(key)} is in --help`);
    const description = help.slice(at).split('\n')[1] ?? '';
    assert.match(description, /^ {6}\S/, `--${flagName(key)} has a description`);
  }
  const long = help.split('\n').filter((line) => line.startsWith('      ') && line.length > 100);
  assert.deepEqual(long, [], 'descriptions are wrapped at 100 characters');
});

it('serve --help describes --cors-origins, and a bad origin fails naming the setting', () => {
  assert.match(
    settingsHelp(),
    /--cors-origins {2}PARLEY_CORS_ORIGINS {2}default: \[\]\n +Comma-separated origins \(like https:\/\/app\.example\.org\) whose browser apps/,
  );
  const c = loadConfig({ argv: ['--cors-origins', 'https://app.example.org, http://localhost:5173'] });
  assert.deepEqual(c.corsOrigins, ['https://app.example.org', 'http://localhost:5173']);
  for (const bad of ['app.example.org', 'https://app.example.org/', 'ftp://x.org', 'https://a.org/path'])
    assert.throws(() => loadConfig({ argv: ['--cors-origins', bad] }), /corsOrigins \(--cors-origins/, bad);
});

it('s3PartsInFlight is a whole number from 1 to 64, 4 unless set, and a bad one fails naming it', () => {
  assert.equal(loadConfig({}).s3PartsInFlight, 4);
  assert.equal(loadConfig({ env: { PARLEY_S3_PARTS_IN_FLIGHT: '16' } }).s3PartsInFlight, 16);
  assert.equal(loadConfig({ argv: ['--s3-parts-in-flight', '1'] }).s3PartsInFlight, 1);
  for (const bad of ['0', '65', '2.5', 'four', '-1'])
    assert.throws(
      () => loadConfig({ argv: ['--s3-parts-in-flight', bad] }),
      /s3PartsInFlight \(--s3-parts-in-flight \/ PARLEY_S3_PARTS_IN_FLIGHT\)/,
      bad,
    );
});

it('media defaults: 16 MB images and voice notes, 2 GB video and documents, 1 h URLs, uploads kept 24 h', () => {
  // The product's MB and GB are binary, as docs/operations.md lists them: 16 MiB, 2 GiB.
  const MiB = 1024 ** 2;
  const GiB = 1024 ** 3;
  const c = loadConfig({});
  assert.deepEqual(
    {
      image: c.mediaMaxImageBytes,
      voice: c.mediaMaxVoiceBytes,
      video: c.mediaMaxVideoBytes,
      document: c.mediaMaxDocumentBytes,
      signedUrlMs: c.mediaUrlTtlMs,
      unfinishedUploadMs: UPLOAD_EXPIRY_MS,
    },
    {
      image: 16 * MiB,
      voice: 16 * MiB,
      video: 2 * GiB,
      document: 2 * GiB,
      signedUrlMs: 3_600_000,
      unfinishedUploadMs: 86_400_000,
    },
  );
});
