/** Node-only parts of the SDK: the `ws` transport and the file-backed LocalStore. */

export * from './e2e.js';
export { FileLocalStore } from './file-store.js';
export { nodeWebSocketFactory } from './ws-socket.js';
