/**
 * Plain data types of the SDK's public API: no protobuf classes, no bigints (seqs and
 * times are far below 2^53), so they print as JSON. Enums are the wire enums.
 */

import type { ChatKind, ChatUpdateKind, Role } from '@parley/protocol';
import type { CallEndReasonName } from './calls/wire.js';

/** What a device needs to connect; keep it secret (the token is a bearer credential). */
export interface Credentials {
  serverUrl: string;
  userId: string;
  deviceId: string;
  token: string;
  primary: boolean;
}

export interface CodeRequested {
  phone: string;
  expiresInMs: number;
  resendAfterMs: number;
}

/** Whether the account has a registration-lock PIN (see setRegistrationLock). */
export interface RegistrationLockStatus {
  enabled: boolean;
  /** When the PIN was set (ms since epoch); only when enabled. */
  setAt?: number;
}

/**
 * Someone entered this account's SMS code to register a new phone, and the registration lock
 * asked for the PIN (`pinRequested`), got a wrong one (`wrongPin`), or is locked out until
 * `lockedUntil` (`lockedOut`).
 */
export interface RegistrationAttemptInfo {
  stage: 'pinRequested' | 'wrongPin' | 'lockedOut' | 'unknown';
  /** Wrong PINs left before the lockout. */
  pinTriesLeft: number;
  /** During a lockout, when it ends (ms since epoch); 0 otherwise. */
  lockedUntil: number;
  serverTime: number;
}

export interface LinkCode {
  code: string;
  expiresInMs: number;
}

export interface DeviceInfo {
  deviceId: string;
  name: string;
  primary: boolean;
  createdAt: number;
  lastSeenAt: number;
}

interface Received {
  chatId: string;
  seq: number;
  senderUserId: string;
  senderDeviceId: string;
  clientMessageId: string;
  serverTime: number;
}

/** What a message is: a message (maybe a reply), or an edit, delete or reaction of `refSeq`. */
export type MessageKind = 'message' | 'edit' | 'delete' | 'reaction';

/** What the server sees of a message besides its ciphertext (protocol.md §5.5). */
export interface MessageMetaInfo {
  type: MessageKind;
  /** The message replied to, edited, deleted or reacted to; 0 for none. */
  refSeq: number;
  /** Reactions: the emoji; '' removes the sender's reaction. */
  reaction: string;
  /** User ids mentioned. */
  mentions: string[];
  /** How many times the content was forwarded before (0 = original). */
  forwardCount: number;
  /**
   * View once (present, true, only then): the server drops the payload as soon as the first
   * recipient device acks it, so a device gets it once at most; show it once, do not keep it.
   */
  viewOnce?: boolean;
}

/**
 * A payload message for this device. Deletes and reactions (and messages deleted for
 * everyone, `deleted`) carry an empty payload.
 */
export interface ReceivedMessage extends Received {
  payload: Uint8Array;
  meta: MessageMetaInfo;
  /** Forwarded more than 5 times ("forwarded many times"). */
  forwardedMany: boolean;
  /** Deleted for everyone: the payload is gone. */
  deleted: boolean;
  /**
   * Sent while the chat had a disappearing timer: remove it from the device at this time (ms
   * since the epoch, server clock). Absent otherwise. The client's `expired` event says when.
   */
  expiresAt?: number;
}

export interface MemberInfo {
  userId: string;
  role: Role;
  joinedAt: number;
}

export interface ChatInfo {
  id: string;
  kind: ChatKind;
  name: string;
  description: string;
  createdAt: number;
  lastSeq: number;
  members: MemberInfo[];
  /** For this user: payload messages from others after `readSeq`. */
  unreadCount: number;
  /** This user's read position (all of the user's devices share it). */
  readSeq: number;
  /** The newest message the server holds (no payload); absent in an empty chat. */
  lastMessage?: LastMessageInfo;
  /** Group settings: only admins (and the creator) may send / change name and description. */
  onlyAdminsSend: boolean;
  onlyAdminsEditInfo: boolean;
  /** Disappearing timer: new messages expire this many seconds after they are sent (0 = off). */
  disappearingSeconds: number;
  /** Pinned messages in force (at most 3). */
  pins: PinInfo[];
  /** For this user: unread messages that mention them. */
  unreadMentions: number;
  /**
   * For this user: the chat is muted until this time, unix ms (0 = not muted, MUTE_FOREVER =
   * until unmuted); set in chat lists (`listChats`), 0 elsewhere. See `isMuted`.
   */
  mutedUntil: number;
  /** Group icon: the media id of its image (download with `downloadMedia`), '' when none. */
  iconMediaId: string;
}

/** A pinned message. */
export interface PinInfo {
  seq: number;
  pinnedBy: string;
  /** When the pin ends (ms since the epoch, server clock). */
  expiresAt: number;
}

/** How long `pin` pins a message. */
export type PinDuration = '24h' | '7d' | '30d';

/** Disappearing timers `setDisappearing` accepts: off, 24 hours, 7 days, 90 days. */
export type DisappearingSeconds = 0 | 86400 | 604800 | 7776000;

/** A disappearing message's time is up (the client's `expired` event): delete it locally. */
export interface ExpiredInfo {
  chatId: string;
  seq: number;
}

export interface LastMessageInfo {
  seq: number;
  senderUserId: string;
  serverTime: number;
  /** A chat update rather than a message. */
  isUpdate: boolean;
}

export interface ChatUpdateInfo {
  kind: ChatUpdateKind;
  /** Users the change is about (added, removed, left, role changed). */
  userIds: string[];
  /** Set on CREATED and INFO_CHANGED. */
  name: string;
  description: string;
  chatKind: ChatKind;
  /** Set on CREATED: the full member list. */
  members: MemberInfo[];
  role: Role;
  /** Set on SETTINGS_CHANGED (and CREATED): the group settings after the change. */
  onlyAdminsSend: boolean;
  onlyAdminsEditInfo: boolean;
  /** Set on DISAPPEARING_CHANGED (only): the timer now in force, in seconds (0 = off). */
  disappearingSeconds?: number;
  /** Set on PINNED and UNPINNED (only): the message pinned or unpinned. */
  pinSeq?: number;
  /** Set on PINNED (only): when the pin ends (ms since the epoch, server clock). */
  pinExpiresAt?: number;
  /** Set on INFO_CHANGED (only): the group icon's media id after the change ('' when none). */
  iconMediaId?: string;
  /**
   * Set on CALL (only): a call ended, written by the server; the caller is `userIds[0]`, and
   * `durationMs` is 0 for a call never answered (docs/calls.md, "Call events in the chat").
   */
  call?: { callId: string; reason: CallEndReasonName; durationMs: number; video: boolean };
}

/** A change to a chat (created, members added/removed, renamed...). */
export interface ReceivedChatUpdate extends Received {
  update: ChatUpdateInfo;
}

/** The server stored a send: its place in the chat. */
export interface SendResult {
  clientMessageId: string;
  chatId: string;
  seq: number;
  serverTime: number;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: (ReceivedMessage | ReceivedChatUpdate)[];
  more: boolean;
}

export interface ClientStats {
  /** Messages and chat updates handed to the app. */
  received: number;
  /** Messages dropped because their seq was at or below the local cursor. */
  duplicates: number;
  /** Sends the server confirmed. */
  sent: number;
  /** Delivered messages (new and duplicate) covered by an ack frame sent to the server. */
  acked: number;
}

/** Who may see this user's last-seen time (`setLastSeenPrivacy`). */
export type LastSeenPrivacy = 'everyone' | 'contacts' | 'nobody';

/** What a user is doing in a chat's input box. */
export type TypingStatus = 'composing' | 'paused';

/** A user's presence, as this user may see it. */
export interface PresenceInfo {
  userId: string;
  /** True while any device of the user is connected. */
  online: boolean;
  /**
   * When the user was last online (ms since the epoch, server clock); 0 while online, and
   * when hidden by their privacy setting or this user's own (NOBODY), or unknown.
   */
  lastSeen: number;
}

/** Someone started or stopped typing in a chat (never the user's own devices). */
export interface TypingInfo {
  chatId: string;
  userId: string;
  state: TypingStatus;
  /**
   * Until when (local clock, ms since the epoch) to show "typing..." unless a `paused` or a
   * message from that user arrives first; equal to the arrival time for `paused`.
   */
  expiresAt: number;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
  /** Why the client stops for good (revoked, replaced, refused handshake), when it does. */
  error?: Error;
}

/** Result of `markRead`: the read position now in force and what is still unread. */
export interface MarkReadInfo {
  readSeq: number;
  unreadCount: number;
}

/**
 * A member's position in a chat (pushed as `receipt` events): every message up to
 * `deliveredSeq` reached one of their devices, every message up to `readSeq` was read
 * (0 while read receipts are off on either side). Both only move forward.
 */
export interface ReceiptInfo {
  chatId: string;
  userId: string;
  deliveredSeq: number;
  readSeq: number;
  /** When the position moved (ms since the epoch, server clock). */
  at: number;
}

/** Where a message this user sent stands: ✓, ✓✓ or read. */
export type MessageStatus = 'sent' | 'delivered' | 'read';

/** `getReceipts`: when each other member first had the message delivered and read (0 = not yet). */
export interface MessageReceipts {
  members: { userId: string; deliveredAt: number; readAt: number }[];
  deliveredToAll: boolean;
  readByAll: boolean;
}

/** A group's invite code (`createInvite`). */
export interface InviteInfo {
  chatId: string;
  code: string;
}

/** Group roles that `setRole` can give. */
export type GroupRole = 'admin' | 'member';

/** A user's profile as the server holds it: ciphertext the SDK decrypts with the profile key. */
export interface SealedProfile {
  userId: string;
  /** Strictly increasing per user. */
  version: number;
  ciphertext: Uint8Array;
  /** When the server stored this version (ms since the epoch). */
  updatedAt: number;
}

/** A page of profile versions to catch up on (see `ParleyClient.profileChanges`). */
export interface ProfileChangesPage {
  profiles: Array<{ userId: string; version: number; updatedAt: number }>;
  /** The page is full: ask again from its last entry. */
  more: boolean;
  /** The server's time when it read the page: the next catch-up's `since`. */
  serverTime: number;
}
