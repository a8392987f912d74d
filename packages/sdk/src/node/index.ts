/**
 * Node-only parts of the SDK: the `ws` transport, the file-backed LocalStore and the
 * thumbnailer (sharp, ffmpeg).
 */

export * from './e2e.js';
export { FileLocalStore } from './file-store.js';
export { type NodeThumbnailerOptions, nodeThumbnailer } from './thumbnails.js';
export { nodeWebSocketFactory } from './ws-socket.js';
