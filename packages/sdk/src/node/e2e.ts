/** Node-only parts of the SDK's end-to-end layer: libsignal sessions and the SQLite key store. */
export {
  LibsignalProtocol,
  type LibsignalProtocolOptions,
  MAX_ONE_TIME_BATCH,
} from './libsignal-protocol.js';
export { KeyStoreBusyError, SqliteKeyValueStore } from './sqlite-key-store.js';
