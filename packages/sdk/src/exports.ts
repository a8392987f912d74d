/**
 * What both entries of the SDK export (`@parley/sdk` and `@parley/sdk/browser`): HTTP
 * helpers, SecureMessaging, the e2e contracts, stores and trackers. Browser-ready: nothing
 * here needs Node. ParleyClient is exported by each entry, with its own default transport.
 */
export {
  ChatKind,
  ChatUpdateKind,
  CloseCodes,
  type DeviceMismatch,
  type Encoding,
  type ErrorCode,
  ErrorCodes,
  ParleyError,
  Role,
  type Welcome,
} from '@parley/protocol';
export { type BackoffOptions, backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export {
  type BlockedUserInfo,
  REPORT_REASONS,
  type ReportInput,
  type ReportMessageInput,
  type ReportOutcome,
  type ReportReasonName,
} from './blocking.js';
export {
  type CallEnded,
  Calls,
  type CallsEvents,
  type CallsOptions,
  type IncomingCall,
} from './calls/calls.js';
export type {
  CallDescription,
  IceCandidateLike,
  PeerConnectionConfig,
  PeerConnectionFactory,
  PeerConnectionLike,
  SessionDescriptionLike,
} from './calls/peer.js';
export type { CallEndReasonName, CallPush, CallResultInfo, IceServerInfo } from './calls/wire.js';
export type {
  ChatChanges,
  DeviceIdentityInfo,
  DiscoverMatch,
  ForwardTarget,
  HistoryOptions,
  KeyUploadInit,
  PreKeyBundleInfo,
  SendContent,
  SendOptions,
  UserDeviceIds,
} from './client.js';
export { DISAPPEARING_TIMERS, MAX_FORWARD_TARGETS, MAX_PRESENCE_SUBSCRIPTIONS } from './client.js';
export * from './crypto/index.js';
export { hashPhone, normalizePhone } from './discover.js';
export type {
  AttachmentPointer,
  SecureContent,
} from './e2e/content.js';
export {
  checkProfileContent,
  newProfileKey,
  openProfile,
  PROFILE_ABOUT_MAX,
  PROFILE_NAME_MAX,
  type ProfileContent,
  sealProfile,
} from './e2e/profile-cipher.js';
export type { ProfileChanges, RotateOptions, UserProfile } from './e2e/profiles.js';
export {
  type OpenedPreview,
  openPreview,
  PREVIEW_MAX_BYTES,
  PREVIEW_MAX_CHARS,
  type PreviewKeys,
  previewText,
  sealPreview,
} from './e2e/push-preview.js';
export {
  type DecryptFailure,
  type FileSendOptions,
  MAX_PREVIEW_DEVICES,
  type SecureEvents,
  type SecureMessage,
  SecureMessaging,
  type SecureMessagingOptions,
  type SecureSendOptions,
} from './e2e/secure-messaging.js';
export { type ExpiringMessage, ExpiryTracker, type ExpiryTrackerEvents, MAX_TIMER_MS } from './expiry.js';
export {
  createLinkCode,
  createSocketTicket,
  type DownloadOptions,
  deleteAccount,
  downloadMedia,
  type FetchLike,
  type HttpOptions,
  linkDevice,
  listDevices,
  type MediaUrl,
  mediaIdOf,
  mediaUrl,
  registrationLockStatus,
  removeDevice,
  removeRegistrationLock,
  requestAccountDeletionCode,
  requestCode,
  setRegistrationLock,
  uploadMedia,
  verifyCode,
} from './http.js';
export { newClientMessageId } from './ids.js';
export { type ChatCursor, type LocalStore, MemoryLocalStore } from './local-store.js';
export {
  BLURHASH_MAX_CHARS,
  type MediaPreview,
  type PreviewOptions,
  THUMBNAIL_MAX_BYTES,
  THUMBNAIL_MAX_EDGE,
  type Thumbnail,
  type Thumbnailer,
} from './media-preview.js';
export { type ChatMuteInfo, isMuted, MUTE_FOREVER, type MuteUntil, muteUntilToWire } from './mutes.js';
export type { ClientEvents, ClientOptions } from './options.js';
export type { PushRegistrationInfo, PushTargetInput } from './push.js';
export { type ReceiptPosition, type ReceiptSource, ReceiptTracker } from './receipts.js';
export {
  type ResumableUploadOptions,
  type UploadResumeStore,
  type UploadSource,
  uploadMediaResumable,
} from './resumable-upload.js';
export {
  browserWebSocketFactory,
  type SocketHandlers,
  type SocketLike,
  type SocketRequest,
  type WebSocketFactory,
} from './socket.js';
export { ticketWebSocketFactory } from './ticket-socket.js';
export type * from './types.js';
export {
  systemTimers,
  type Timers,
  TypingNotifier,
  type TypingNotifierOptions,
  type TypingSource,
  type TypingStopReason,
  TypingTracker,
  type TypingTrackerEvents,
} from './typing.js';
export { normalizeServerUrl, webSocketUrl } from './urls.js';
