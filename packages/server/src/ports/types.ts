/** Domain types shared by ports and features. Ids are branded strings so they cannot be mixed up. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
export type UserId = Brand<string, 'UserId'>;
export type DeviceId = Brand<string, 'DeviceId'>;
export type ChatId = Brand<string, 'ChatId'>;

export type ChatKind = 'direct' | 'group';
export type Role = 'member' | 'admin' | 'creator';

export interface User {
  id: UserId;
  phone: string;
  createdAt: number;
}

export interface Device {
  id: DeviceId;
  userId: UserId;
  primary: boolean;
  name: string;
  createdAt: number;
  lastSeenAt: number;
  /** Set (by deviceByTokenHash) when the device's account is suspended. */
  suspendedAt?: number;
}

export interface MemberInfo {
  userId: UserId;
  role: Role;
  joinedAt: number;
}

export interface ChatInfo {
  id: ChatId;
  kind: ChatKind;
  name: string;
  description: string;
  createdAt: number;
  lastSeq: number;
  members: MemberInfo[];
  /** Group settings: only admins (and the creator) may send / change name and description. */
  onlyAdminsSend: boolean;
  onlyAdminsEditInfo: boolean;
  /** Disappearing messages: new messages expire this many seconds after sending (0 = off). */
  disappearingSeconds: number;
  /** Group icon: a media id (SHA-256 hex of an uploaded image), '' when none. */
  iconMediaId: string;
}

export interface PinInfo {
  seq: number;
  pinnedBy: UserId;
  expiresAt: number;
}

/** What a stored message carries: opaque ciphertext, or an encoded chat update. */
export type MessageKind = 'payload' | 'update';

export type MessageType = 'message' | 'edit' | 'delete' | 'reaction';

/** What the server sees of a message besides its opaque payload. */
export interface MessageMeta {
  type: MessageType;
  /** Replied-to message (type 'message'), or the target of an edit / delete / reaction. */
  refSeq: number;
  reaction: string;
  mentions: UserId[];
  forwardCount: number;
  /** The payload is dropped once the first recipient device acks it. */
  viewOnce?: boolean;
}

export interface StoredMessage {
  chatId: ChatId;
  seq: number;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  clientMessageId: string;
  serverTime: number;
  kind: MessageKind;
  /** The body for the reading device; undefined when a per-device message has none for it. */
  body: Uint8Array | undefined;
  /** Set on messages with metadata (replies, edits, deletes, reactions, mentions, forwards). */
  meta?: MessageMeta | undefined;
  /** Deleted for everyone: the payload is gone. */
  deleted?: boolean;
  /** When a disappearing message expires (ms since epoch). */
  expiresAt?: number;
  /** Withheld from the other member of a direct chat, who had blocked the sender. */
  withheld?: boolean;
}

/** A device's position in one chat. Pending = seqs in (ackedSeq, endSeq ?? lastSeq]. */
export interface DeviceCursor {
  chatId: ChatId;
  ackedSeq: number;
  /** Set when the user left or was removed: nothing after this seq is theirs. */
  endSeq: number | undefined;
  lastSeq: number;
}

/**
 * Every cursor of a device as columns, one index per chat: a device in a thousand chats
 * reads them at each connect, and columns cost far less to build and to pass between
 * threads than a thousand objects.
 */
export interface DeviceCursors {
  /** The cursors with something after them (or an end): one entry per column index. */
  chatIds: ChatId[];
  ackedSeqs: number[];
  /** The cursor's endSeq, or 0 while the user is a member (an end is always ≥ 1). */
  endSeqs: number[];
  lastSeqs: number[];
  /**
   * The caught-up cursors (acked up to the chat's last seq, no end), as one string of
   * `"\n<chatId>\t<ackedSeq>"` entries: most of a device's chats are caught up, and one
   * string costs nothing to pass between threads or to keep per connection
   * (`CaughtUpChats` finds an entry), in ascending chat id order where the store can.
   */
  caughtUp: string;
}

export function emptyCursors(): DeviceCursors {
  return { chatIds: [], ackedSeqs: [], endSeqs: [], lastSeqs: [], caughtUp: '' };
}

export function addCursor(c: DeviceCursors, chatId: string, acked: number, end: number | null, last: number) {
  if (!end && last <= acked) {
    c.caughtUp += `\n${chatId}\t${acked}`;
    return;
  }
  c.chatIds.push(chatId as ChatId);
  c.ackedSeqs.push(acked);
  c.endSeqs.push(end ?? 0);
  c.lastSeqs.push(last);
}

/**
 * Adds the `"\n<chat>\t<acked>\t<end or 0>\t<last>"` entries of `encoded` (a store's
 * aggregate of the cursors that are not caught up).
 */
export function addEncodedCursors(c: DeviceCursors, encoded: string): void {
  let at = 0;
  while (at < encoded.length) {
    const next = encoded.indexOf('\n', at + 1);
    const end = next < 0 ? encoded.length : next;
    const [chatId, acked, endSeq, last] = encoded.slice(at + 1, end).split('\t');
    addCursor(c, chatId!, Number(acked), Number(endSeq) || null, Number(last));
    at = end;
  }
}

/**
 * Finds chats in a `DeviceCursors.caughtUp` string. Stores give the entries in ascending chat
 * id order (SQLite's scan of the cursor key yields them so), and then a lookup is a binary
 * search over entry offsets found on first use: one small typed array, no object per chat.
 * Entries found out of order on that first pass fall back to a map.
 */
export class CaughtUpChats {
  private starts: Int32Array | undefined;
  private unsorted: Map<string, number> | undefined;

  constructor(readonly encoded: string) {}

  /** The acked seq of a caught-up chat, or undefined when it is not in the string. */
  seqOf(chatId: ChatId): number | undefined {
    const s = this.encoded;
    if (s.length === 0) return undefined;
    if (!this.starts) this.index();
    if (this.unsorted) return this.unsorted.get(chatId);
    const starts = this.starts!;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = starts[mid]! + 1;
      const c = compareId(chatId, s, at);
      if (c === 0) {
        const from = at + chatId.length + 1;
        const end = mid + 1 < starts.length ? starts[mid + 1]! : s.length;
        return Number(s.slice(from, end));
      }
      if (c < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return undefined;
  }

  private index(): void {
    const s = this.encoded;
    let n = 0;
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
    const starts = new Int32Array(n);
    n = 0;
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) starts[n++] = i;
    this.starts = starts;
    for (let k = 1; k < starts.length; k++) {
      const prev = s.slice(starts[k - 1]! + 1, s.indexOf('\t', starts[k - 1]!));
      if (compareId(prev, s, starts[k]! + 1) < 0) continue;
      this.unsorted = new Map();
      for (const entry of s.split('\n').slice(1)) {
        const tab = entry.indexOf('\t');
        this.unsorted.set(entry.slice(0, tab), Number(entry.slice(tab + 1)));
      }
      return;
    }
  }
}

/** Compares `id` with the chat id at `at` in `s` (which ends at a tab), by UTF-16 code units. */
function compareId(id: string, s: string, at: number): number {
  for (let i = 0; ; i++) {
    const a = i < id.length ? id.charCodeAt(i) : -1;
    const b = s.charCodeAt(at + i);
    const bEnd = b === 9;
    if (a === -1) return bEnd ? 0 : -1;
    if (bEnd) return 1;
    if (a !== b) return a - b;
  }
}

/** The acked seq of a caught-up chat in `caughtUp`, or undefined (one lookup). */
export function caughtUpSeq(caughtUp: string, chatId: ChatId): number | undefined {
  return new CaughtUpChats(caughtUp).seqOf(chatId);
}

/** The cursors one object per chat, by chat id (tests and tools). */
export function cursorList(c: DeviceCursors): DeviceCursor[] {
  const out: DeviceCursor[] = c.chatIds.map((chatId, i) => ({
    chatId,
    ackedSeq: c.ackedSeqs[i]!,
    endSeq: c.endSeqs[i] || undefined,
    lastSeq: c.lastSeqs[i]!,
  }));
  for (const entry of c.caughtUp.split('\n').slice(1)) {
    const [chatId, acked] = entry.split('\t');
    out.push({
      chatId: chatId as ChatId,
      ackedSeq: Number(acked),
      endSeq: undefined,
      lastSeq: Number(acked),
    });
  }
  return out.sort((a, b) => (a.chatId < b.chatId ? -1 : a.chatId > b.chatId ? 1 : 0));
}

/** Who may see a user's last-seen time. */
export type LastSeenVisibility = 'everyone' | 'contacts' | 'nobody';

export interface UserPresenceRecord {
  lastSeenAt: number;
  visibility: LastSeenVisibility;
  /** Off: the user's reads are not reported, and they see no one's. */
  readReceipts: boolean;
}

/** A chat as one member sees it in the chat list. */
export interface ChatSummary extends ChatInfo {
  /** Unread messages that mention the caller. */
  unreadMentions?: number;
  /** The caller's mute of the chat, unix ms (0 = not muted, MUTE_FOREVER = until unmuted). */
  mutedUntil?: number;
  /** Pins in force. */
  pins?: PinInfo[];
  readSeq: number;
  unreadCount: number;
  lastMessage: { seq: number; senderUserId: UserId; serverTime: number; isUpdate: boolean } | undefined;
}

/** A member's receipt position in a chat: delivered to one of their devices / read, up to a seq. */
export interface ReceiptState {
  chatId: ChatId;
  userId: UserId;
  deliveredSeq: number;
  readSeq: number;
  /** When the position last moved. */
  at: number;
}

export interface ReceiptChange extends ReceiptState {
  previousDeliveredSeq: number;
  previousReadSeq: number;
  /** Users who sent payload messages in the moved range (computed with the change). */
  senders?: UserId[];
}

/**
 * The seq after which a move covers messages: the senders of the messages in (from, new
 * delivered] are told. A read that moves covers what was delivered and not read yet; a move of
 * the delivered position alone covers only what was not delivered yet, so a member who never
 * reads does not make each receipt scan the chat's whole history.
 */
export function coveredFrom(
  previous: { deliveredSeq: number; readSeq: number },
  moved: { readSeq: number },
): number {
  return moved.readSeq > previous.readSeq ? previous.readSeq : previous.deliveredSeq;
}

/** A public key signed by the device's identity key (XEdDSA signature). */
export interface SignedPublicKey {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface OneTimePublicKey {
  id: number;
  publicKey: Uint8Array;
}

/** What another device needs to start a session with one device. */
export interface PreKeyBundleRecord {
  userId: UserId;
  deviceId: DeviceId;
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: SignedPublicKey;
  /** Kyber prekey used when the one-time prekeys have run out (and alongside them). */
  lastResortKey: SignedPublicKey;
  /** Absent when the device has no one-time prekeys left. */
  oneTimePreKey?: OneTimePublicKey;
  /** One-time prekeys the device has left after this bundle was taken. */
  oneTimeRemaining: number;
}

export interface DeviceIdentity {
  userId: UserId;
  deviceId: DeviceId;
  registrationId: number;
  identityKey: Uint8Array;
}

/** A user's profile as the server holds it: ciphertext only (the SDK encrypts it). */
export interface StoredProfile {
  userId: UserId;
  /** Chosen by the owner; strictly increasing per user. */
  version: number;
  ciphertext: Uint8Array;
  /** When this version was stored (ms). */
  updatedAt: number;
}

/** A profile's version without its content (catching up after being away). */
export interface ProfileVersionRecord {
  userId: UserId;
  version: number;
  updatedAt: number;
}
