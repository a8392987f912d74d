/**
 * @parley/sdk/browser: the SDK for a web page. ParleyClient connects with the page's
 * WebSocket (token in the query: browsers cannot set headers), BrowserE2eProtocol encrypts
 * as the Node SDK's libsignal devices do, and keys, cursors and values live in IndexedDB.
 * Nothing reachable from here imports a Node module (checked by entry.test.ts).
 */
export { ParleyClient } from '../client.js';
export * from '../exports.js';
export { BrowserE2eProtocol, type BrowserE2eProtocolOptions } from './browser-protocol.js';
export { browserIdb, type IdbEnvironment } from './idb.js';
export { IndexedDbKeyValueStore } from './indexeddb-key-store.js';
export { IndexedDbLocalStore } from './indexeddb-local-store.js';
export { openStoredPushPreview, storedPreviewKeys } from './preview-keys.js';
export { type BrowserThumbnailerOptions, browserThumbnailer } from './thumbnails.js';
