/** Browser-safe parts of the SDK's end-to-end layer (libsignal-backed parts are Node-only). */
export {
  ATTACHMENT_KEY_BYTES,
  decryptAttachment,
  type EncryptedAttachment,
  encryptAttachment,
} from './attachments.js';
export { E2eError, type E2eErrorCode, E2eErrorCodes } from './errors.js';
export {
  checkMediaType,
  DEFAULT_MAX_IMAGE_PIXELS,
  imageSize,
  type MediaClass,
  mediaClassOf,
} from './media-type.js';
export { MemoryKeyValueStore } from './memory-store.js';
export {
  SAFETY_NUMBER_VERSION,
  type SafetyNumber,
  type SafetyNumberParty,
  safetyNumber,
} from './safety-number.js';
export type {
  E2eProtocol,
  IdentityChangeListener,
  KeyUpload,
  KeyValueStore,
  OneTimeKey,
  PreKeyBundle,
  PrunedKeys,
  SignedKey,
  SignedKeys,
  SignedKeysStatus,
} from './types.js';
