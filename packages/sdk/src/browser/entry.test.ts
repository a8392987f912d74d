import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importGraph } from '../testing/import-graph.js';

const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const BROWSER_ENTRY = entry('./index.js');
const NODE_ENTRY = entry('../index.js');

/** Registry packages the browser entry may reach; each is pure JavaScript on web APIs. */
const BROWSER_PACKAGES = [
  '@bufbuild/protobuf',
  '@noble/curves',
  '@noble/hashes',
  '@noble/post-quantum',
  '@parley/protocol',
];

test('the browser entry reaches no Node built-in and no Node-only package, statically or dynamically', () => {
  const graph = importGraph(BROWSER_ENTRY);
  assert.deepEqual(graph.builtins, []);
  assert.deepEqual([...graph.packages].sort(), BROWSER_PACKAGES);
  const sdkNode = [...graph.files].filter(
    (f) => f.includes('/sdk/dist/src/node/') || f.endsWith('node-client.js'),
  );
  assert.deepEqual(sdkNode, []);
  assert.ok(graph.files.size > 50, `walked ${graph.files.size} files`);
});

test('the import walk catches Node-only imports: the Node entry reaches ws, libsignal, SQLite, sharp and node:*', () => {
  const graph = importGraph(NODE_ENTRY);
  for (const pkg of ['ws']) assert.ok(graph.packages.has(pkg), `${pkg} reached`);
  const nodeEntry = importGraph(entry('../node/index.js'));
  for (const pkg of ['ws', '@signalapp/libsignal-client', 'better-sqlite3', 'sharp', 'blurhash']) {
    assert.ok(nodeEntry.packages.has(pkg), `${pkg} reached`);
  }
  assert.ok(nodeEntry.builtins.some((b) => b.specifier.startsWith('node:')));
});

test('the browser entry exports the client, secure messaging, the browser protocol and IndexedDB stores', async () => {
  const browser = await import('./index.js');
  for (const name of [
    'ParleyClient',
    'SecureMessaging',
    'BrowserE2eProtocol',
    'IndexedDbKeyValueStore',
    'IndexedDbLocalStore',
    'browserWebSocketFactory',
    'requestCode',
    'verifyCode',
    'uploadMedia',
    'downloadMedia',
  ] as const) {
    assert.equal(typeof browser[name], 'function', name);
  }
  const node = await import('../index.js');
  assert.notEqual(browser.ParleyClient, node.ParleyClient, 'each entry has its own default transport');
  assert.equal(browser.SecureMessaging, node.SecureMessaging);
});
