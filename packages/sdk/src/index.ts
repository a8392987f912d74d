/**
 * @parley/sdk: HTTP helpers, ParleyClient and SecureMessaging. ParleyClient connects with
 * Node's `ws` unless given a webSocketFactory; other Node-only parts are in
 * `@parley/sdk/node`, and browsers import `@parley/sdk/browser`.
 */
export * from './exports.js';
export { ParleyClient } from './node-client.js';
