/**
 * End-to-end encrypted messaging over a ParleyClient. The server only ever sees ciphertext:
 * - 1:1 chats: one pairwise (Signal session) ciphertext per recipient device, including the
 *   sender's own other devices; sessions start from prekey bundles of the key directory;
 * - groups: sender keys. The sender's key for the chat goes to every member device inside
 *   pairwise messages; once every device has it, each message is encrypted once. When a
 *   device leaves the set of recipients (a member removed, a device unlinked) the key is
 *   rotated before the next message, so it cannot read later ones;
 * - attachments: encrypted with a fresh key before upload; key and digest go inside the
 *   encrypted message.
 * A device-list mismatch from the server (a device added or removed) refreshes the lists
 * and the send is retried with the same client message id. The device's signed keys are
 * rotated and old ones pruned by SignedKeyMaintenance.
 * A message that cannot be decrypted is asked for again from the device that sent it, which
 * encrypts it anew for this device over a fresh session (RetryBook keeps both sides' state).
 */
import { ChatKind, ParleyError } from '@parley/protocol';
import type { ParleyClient, SendContent, SendOptions } from '../client.js';
import { decryptAttachment, encryptAttachment } from '../crypto/attachments.js';
import { compareBytes, concatBytes, ownBytes } from '../crypto/bytes.js';
import { checkMediaType, mediaClassOf } from '../crypto/media-type.js';
import { type SafetyNumber, safetyNumber } from '../crypto/safety-number.js';
import type { E2eProtocol, KeyValueStore, SignedKeys } from '../crypto/types.js';
import { hex } from '../discover.js';
import { TypedEmitter } from '../emitter.js';
import { type DownloadOptions, downloadMedia, uploadMedia } from '../http.js';
import { newClientMessageId } from '../ids.js';
import type { Thumbnailer } from '../media-preview.js';
import { isOffline } from '../requests.js';
import { uploadMediaResumable } from '../resumable-upload.js';
import type { ReceivedMessage, SendResult } from '../types.js';
import { systemTimers, type Timers } from '../typing.js';
import {
  type AttachmentPointer,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  GROUP,
  PAIRWISE,
  type SecureContent,
  tagged,
} from './content.js';
import { ProfileBook, type ProfileChanges, type RotateOptions, type UserProfile } from './profiles.js';
import {
  base64Bytes,
  type OpenedPreview,
  openPreview,
  PREVIEW_MAX_BYTES,
  previewText,
  sealPreview,
} from './push-preview.js';
import { DEFAULT_RETRY_WINDOW_MS, RetryBook } from './retries.js';
import { RetryExchange } from './retry-exchange.js';
import {
  DEFAULT_RETIRED_KEY_GRACE_MS,
  DEFAULT_SIGNED_KEY_ROTATION_MS,
  SignedKeyMaintenance,
} from './signed-key-maintenance.js';

/** A decrypted message: what the server delivered, with its content in the clear. */
export interface SecureMessage extends Omit<ReceivedMessage, 'payload'> {
  content: SecureContent;
  /**
   * Set on a message that could not be decrypted when it arrived (`decryptFailed`) and came
   * again later, encrypted anew by its sender's device: it may come after later messages.
   */
  resent?: true;
}

export interface DecryptFailure {
  chatId: string;
  seq: number;
  senderUserId: string;
  senderDeviceId: string;
  error: Error;
  /**
   * The sender's device was asked to send it again; a `message` with `resent: true` follows
   * if it does (within `retryWindowMs`).
   */
  retrying: boolean;
}

export type SecureEvents = {
  /** A decrypted message; the cursor advances after every listener's promise settles. */
  message: [SecureMessage];
  /** A message that could not be decrypted (it is acknowledged all the same). */
  decryptFailed: [DecryptFailure];
  /** The set of a contact's device identity keys changed: their safety number is new. */
  securityCodeChanged: [{ userId: string }];
  /**
   * A contact's (or this user's) profile changed and this device decrypted the new version;
   * also when a contact's profile key first arrives.
   */
  profileChanged: [UserProfile];
  /** The server accepted new signed keys for this device; new sessions start from them. */
  keysRotated: [{ signedPreKeyId: number; lastResortKeyId: number }];
  error: [Error];
};

export interface SecureMessagingOptions {
  /** One-time prekeys to upload at first start (default 100). */
  oneTimePreKeys?: number;
  /**
   * The signed prekey and Kyber last-resort key are replaced once older than this, checked
   * at start, on every reconnect and on a timer (default 7 days).
   */
  signedKeyRotationMs?: number;
  /**
   * Replaced signed keys are kept this long, so first messages to bundles fetched before the
   * rotation still decrypt, then deleted (default 30 days, as long as libsignal lets a peer
   * keep using an unanswered session).
   */
  retiredKeyGraceMs?: number;
  /**
   * How long what this device sends is kept (in its key store) to be encrypted again for a
   * device that could not decrypt it, and how long this device keeps asking for a message it
   * could not decrypt (default 7 days).
   */
  retryWindowMs?: number;
  /** Clock and timers of key rotation and retries; tell the same time as the protocol's clock. */
  timers?: Timers;
  /**
   * Attach a preview sealed for each recipient device to every message sent, for the push a
   * device gets while offline (default false: pushes then say only "new message"). The
   * preview is the text cut to 100 characters, or a file's name or kind; `send` can give
   * its own or none. Chats with more than 256 recipient devices get none.
   */
  pushPreviews?: boolean;
  /** Most pixels (width × height) a downloaded image may claim (default 64 megapixels). */
  maxImagePixels?: number;
  /**
   * Makes `sendFile`'s thumbnails, dimensions, durations and blurhashes, and removes image
   * metadata (`nodeThumbnailer` from `@parley/sdk/node`). None by default: files go as they are.
   */
  thumbnailer?: Thumbnailer;
}

/** Options of SecureMessaging's `send`. */
export interface SecureSendOptions extends Omit<SendOptions, 'pushPreviews'> {
  /** The push preview of this message: its own text, or false for none (see `pushPreviews`). */
  pushPreview?: string | false;
}

/** Most recipient devices a message carries sealed previews for. */
export const MAX_PREVIEW_DEVICES = 256;

const MAX_MISMATCH_RETRIES = 4;
const NS = {
  meta: 'e2e-meta',
  distributed: 'e2e-distributed',
  contacts: 'e2e-contact-keys',
  /** A file being sent resumably: its attachment key and IV, by the file's SHA-256. */
  uploads: 'e2e-uploads',
  /** The server's URL of an unfinished upload, by the ciphertext's SHA-256. */
  uploadUrls: 'e2e-upload-urls',
} as const;

/** Files this large and larger are sent resumably (tus), in chunks. */
export const RESUMABLE_FROM_BYTES = 4 * 1024 * 1024;

/** Progress and cancellation of `sendFile`. */
export interface FileSendOptions {
  /** Bytes of ciphertext the server holds, the whole, and where this run resumed (0: from the start). */
  onProgress?: (sent: number, total: number, resumedAt: number) => void;
  /** Stops a resumable upload; the next sendFile of the same file resumes it. */
  signal?: AbortSignal;
  /** Bytes per chunk of a resumable upload (default 4 MiB). */
  chunkBytes?: number;
  /** Keep an image's EXIF/GPS metadata (default: the thumbnailer removes it before encryption). */
  keepMetadata?: boolean;
}

function fromHex(h: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(h)) throw new ParleyError('INTERNAL', 'a kept upload key is damaged');
  return Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
}
const utf8 = new TextEncoder();
const unutf8 = new TextDecoder();

interface MismatchDetails {
  deviceMismatch?: { current?: Array<{ userId: string; deviceIds: string[] }> };
}

function positiveMs(ms: number | undefined, name: string): number | undefined {
  if (ms === undefined) return undefined;
  if (!(Number.isFinite(ms) && ms > 0))
    throw new ParleyError('INVALID_ARGUMENT', `${name} must be a positive number of ms`);
  return ms;
}

export class SecureMessaging extends TypedEmitter<SecureEvents> {
  private readonly me: { userId: string; deviceId: string };
  /** Known devices of each user (as the server last told). */
  private readonly devices = new Map<string, string[]>();
  private sendTail: Promise<unknown> = Promise.resolve();
  private started = false;
  private readonly signedKeys: SignedKeyMaintenance;
  private readonly retries: RetryBook;
  private readonly exchange: RetryExchange;
  private readonly profiles: ProfileBook;

  constructor(
    readonly client: ParleyClient,
    readonly protocol: E2eProtocol,
    private readonly kv: KeyValueStore,
    private readonly options: SecureMessagingOptions = {},
  ) {
    super();
    this.me = { userId: client.credentials.userId, deviceId: client.credentials.deviceId };
    const pixels = options.maxImagePixels;
    if (pixels !== undefined && !(Number.isSafeInteger(pixels) && pixels > 0))
      throw new ParleyError('INVALID_ARGUMENT', 'maxImagePixels must be a positive whole number');
    this.onListenerError = (err, event) => {
      if (event !== 'error') this.emit('error', err instanceof Error ? err : new Error(String(err)));
    };
    this.signedKeys = new SignedKeyMaintenance({
      protocol,
      timers: options.timers ?? systemTimers,
      rotationMs:
        positiveMs(options.signedKeyRotationMs, 'signedKeyRotationMs') ?? DEFAULT_SIGNED_KEY_ROTATION_MS,
      graceMs: positiveMs(options.retiredKeyGraceMs, 'retiredKeyGraceMs') ?? DEFAULT_RETIRED_KEY_GRACE_MS,
      upload: (keys: SignedKeys) => this.client.uploadKeys({ ...keys }).then(() => {}),
      isConnected: () => client.connected,
      rotated: (keys) =>
        this.emit('keysRotated', {
          signedPreKeyId: keys.signedPreKey.id,
          lastResortKeyId: keys.lastResortKey.id,
        }),
      error: (err) => this.emit('error', err),
    });
    this.retries = new RetryBook({
      kv,
      timers: options.timers ?? systemTimers,
      windowMs: positiveMs(options.retryWindowMs, 'retryWindowMs') ?? DEFAULT_RETRY_WINDOW_MS,
      request: (chatId, seq) => this.client.retry(chatId, seq),
      isConnected: () => client.connected,
      error: (err) => this.emit('error', err),
    });
    this.exchange = new RetryExchange({
      client,
      protocol,
      book: this.retries,
      serial: (fn) => this.serial(fn),
      deliver: (m) => this.emitAndWait('message', m),
      profileKeyFor: (userId) => this.profiles.keyForResend(userId),
      profileKeyReceived: (userId, key) => this.profiles.received(userId, key),
      error: (err) => this.emit('error', err),
    });
    this.profiles = new ProfileBook({
      client,
      kv,
      sendKey: (chatId) => this.sendProfileKey(chatId),
      changed: (p) => this.emit('profileChanged', p),
      error: (err) => this.emit('error', err),
    });
  }

  /**
   * A failure of work every connection does again (the prekey top-up its keysLow asks for,
   * the profile catch-up): losing the connection midway is not an error, anything else is.
   */
  private redoneOnConnect(err: unknown): void {
    if (isOffline(err)) return;
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  /**
   * Connects, uploads this device's keys on first use, rotates its signed keys when they are
   * due, and starts decrypting incoming messages.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.client.on('message', (m) => this.receive(m));
    this.client.on('keysLow', ({ oneTimeCount, target }) => {
      this.replenish(target - oneTimeCount).catch((err) => this.redoneOnConnect(err));
    });
    this.client.on('retryRequested', (r) => this.exchange.answer(r));
    this.client.on('resent', (r) => this.exchange.receive(r));
    this.client.on('profileChanged', ({ userId, version }) => this.profiles.noticed(userId, version));
    // The block list decides who may have the profile key (see ProfileBook): errors are reported there.
    this.client.on('blockList', (list, { madeHere }) => {
      void this.profiles.blockListChanged(
        list.map((u) => u.userId),
        madeHere,
      );
    });
    this.client.on('connected', () => {
      this.signedKeys.connected();
      void this.retries.connected();
      this.profiles.catchUp().catch((err) => this.redoneOnConnect(err));
    });
    this.client.on('disconnected', ({ willReconnect }) => {
      this.signedKeys.disconnected();
      if (!willReconnect) {
        void this.signedKeys.stop();
        this.retries.stop();
      }
    });
    await this.client.connect();
    if (!(await this.kv.get(NS.meta, 'uploaded'))) {
      const upload = await this.protocol.initKeys(this.options.oneTimePreKeys ?? 100);
      await this.client.uploadKeys({ ...upload, replaceOneTime: true });
      await this.kv.put(NS.meta, 'uploaded', utf8.encode('1'));
    }
    await this.signedKeys.start();
    await this.retries.connected();
  }

  /**
   * Stops key rotation and closes the client; resolves once no key change is under way, so
   * the caller may then close the key store.
   */
  async close(): Promise<void> {
    const stopped = this.signedKeys.stop();
    this.retries.stop();
    await this.client.close();
    await stopped;
  }

  /** Encrypts and sends; resolves once the server stored it. */
  send(chatId: string, content: SecureContent, options: SecureSendOptions = {}): Promise<SendResult> {
    const { pushPreview, ...rest } = options;
    const clientMessageId = options.clientMessageId ?? newClientMessageId();
    const text =
      pushPreview === false
        ? undefined
        : (pushPreview ?? (this.options.pushPreviews ? previewText(content) : undefined));
    return this.serial(() =>
      this.withDevices(
        chatId,
        async (payload, recipients) => {
          const pushPreviews =
            text === undefined ? undefined : await this.sealPreviews(chatId, recipients, text);
          return this.client.send(chatId, payload, {
            ...rest,
            clientMessageId,
            ...(pushPreviews && { pushPreviews }),
            ...(content.attachment && { mediaIds: [content.attachment.mediaId] }),
          });
        },
        {
          ...content,
        },
      ),
    );
  }

  /**
   * Opens the preview in a push this device got (`preview`, base64, with the push's chat
   * id). Undefined when there is none this device can open: the message itself shows once
   * it arrives.
   */
  async openPushPreview(push: { chatId: string; preview: string }): Promise<OpenedPreview | undefined> {
    let sealed: Uint8Array;
    try {
      sealed = base64Bytes(push.preview);
    } catch {
      return undefined;
    }
    return openPreview(this.protocol, push.chatId, sealed);
  }

  /** A preview sealed for each other user's device that has a known identity key. */
  private async sealPreviews(
    chatId: string,
    recipients: ReadonlyMap<string, string>,
    text: string,
  ): Promise<Array<{ deviceId: string; payload: Uint8Array }> | undefined> {
    if (recipients.size > MAX_PREVIEW_DEVICES) return undefined;
    const out: Array<{ deviceId: string; payload: Uint8Array }> = [];
    for (const [deviceId, userId] of recipients) {
      if (userId === this.me.userId) continue; // the sender's own devices get no push
      const recipientIdentity = await this.protocol.remoteIdentity(deviceId);
      if (!recipientIdentity) continue;
      const payload = await sealPreview(this.protocol, {
        senderDeviceId: this.me.deviceId,
        chatId,
        recipientIdentity,
        text,
      });
      if (payload.length <= PREVIEW_MAX_BYTES) out.push({ deviceId, payload });
    }
    return out.length > 0 ? out : undefined;
  }

  /** New content for message `seq` (the sender only, within the server's edit window). */
  edit(chatId: string, seq: number, content: SecureContent, options: SendOptions = {}): Promise<SendResult> {
    const clientMessageId = options.clientMessageId ?? newClientMessageId();
    return this.serial(() =>
      this.withDevices(
        chatId,
        (payload) =>
          this.client.edit(chatId, seq, payload, {
            clientMessageId,
            ...(content.attachment && { mediaIds: [content.attachment.mediaId] }),
          }),
        { ...content },
      ),
    );
  }

  /**
   * Forwards content to each chat (encrypted for that chat's devices), one chat after the
   * other; `forwardCount` is the forwarded message's own count plus one.
   */
  async forward(
    chatIds: readonly string[],
    content: SecureContent,
    forwardCount: number,
  ): Promise<SendResult[]> {
    const results: SendResult[] = [];
    for (const chatId of chatIds) {
      const clientMessageId = newClientMessageId();
      results.push(
        await this.serial(() =>
          this.withDevices(
            chatId,
            async (payload) => {
              const mediaIds = content.attachment ? [content.attachment.mediaId] : undefined;
              const [r] = await this.client.forward(
                [{ chatId, payload, clientMessageId, ...(mediaIds && { mediaIds }) }],
                forwardCount,
              );
              if (!r) throw new ParleyError('INTERNAL', 'forward without a result');
              return r;
            },
            { ...content },
          ),
        ),
      );
    }
    return results;
  }

  /**
   * Encrypts `bytes` with a fresh key, uploads the ciphertext, and sends a pointer to it;
   * resolves with the send result and the pointer (to keep, forward or open it later).
   * Files of RESUMABLE_FROM_BYTES and more go up resumably, in chunks (`onProgress`): when a
   * run is cut off, the next `sendFile` of the same bytes on this device encrypts them the
   * same way and goes on from where the server got to (`resumedAt` in `onProgress`'s third
   * argument). With a `thumbnailer` (options), an image loses its EXIF/GPS metadata before
   * encryption (unless `keepMetadata`), and the pointer carries its dimensions, duration,
   * blurhash and thumbnail; `previewNote` says what could not be made (no ffmpeg, say).
   */
  async sendFile(
    chatId: string,
    bytes: Uint8Array,
    info: { mime?: string; name?: string; text?: string } = {},
    options: SecureSendOptions & FileSendOptions = {},
  ): Promise<SendResult & { attachment: AttachmentPointer; previewNote?: string }> {
    const { onProgress, signal, chunkBytes, keepMetadata, ...sendOptions } = options;
    const preview = this.options.thumbnailer
      ? await this.options.thumbnailer.prepare(bytes, info.mime, { keepMetadata: keepMetadata === true })
      : {};
    if (preview.bytes) bytes = preview.bytes;
    const mime = preview.mime ?? info.mime;
    const mediaClass = mediaClassOf(mime);
    let enc: Awaited<ReturnType<typeof encryptAttachment>>;
    let mediaId: string;
    if (bytes.length < RESUMABLE_FROM_BYTES) {
      enc = await encryptAttachment(bytes);
      mediaId = (await uploadMedia(this.client.credentials, enc.ciphertext, { mediaClass })).mediaId;
      onProgress?.(enc.ciphertext.length, enc.ciphertext.length, 0);
    } else {
      const fileKey = hex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', ownBytes(bytes))));
      const kept = await this.kv.get(NS.uploads, fileKey);
      const again = kept ? (JSON.parse(unutf8.decode(kept)) as { key: string; iv: string }) : undefined;
      enc = await encryptAttachment(bytes, again && { key: fromHex(again.key), iv: fromHex(again.iv) });
      if (!again)
        await this.kv.put(
          NS.uploads,
          fileKey,
          utf8.encode(JSON.stringify({ key: hex(enc.key), iv: hex(enc.iv) })),
        );
      const urls = {
        get: async (id: string) => {
          const raw = await this.kv.get(NS.uploadUrls, id);
          return raw ? unutf8.decode(raw) : undefined;
        },
        set: (id: string, url: string) => this.kv.put(NS.uploadUrls, id, utf8.encode(url)),
        delete: (id: string) => this.kv.delete(NS.uploadUrls, id),
      };
      let resumedAt = 0;
      const up = await uploadMediaResumable(this.client.credentials, enc.ciphertext, {
        mediaClass,
        resume: urls,
        ...(chunkBytes !== undefined && { chunkBytes }),
        ...(signal && { signal }),
        onProgress: (sent, total) => {
          if (resumedAt === 0 && sent > 0 && sent < total) resumedAt = sent;
          onProgress?.(sent, total, resumedAt);
        },
      });
      mediaId = up.mediaId;
      await this.kv.delete(NS.uploads, fileKey);
    }
    const attachment: AttachmentPointer = {
      mediaId,
      key: enc.key,
      digest: enc.digest,
      size: enc.size,
      ...(mime !== undefined && { mime }),
      ...(info.name !== undefined && { name: info.name }),
      ...(preview.width !== undefined && { width: preview.width }),
      ...(preview.height !== undefined && { height: preview.height }),
      ...(preview.durationMs !== undefined && { durationMs: preview.durationMs }),
      ...(preview.blurhash !== undefined && { blurhash: preview.blurhash }),
      ...(preview.thumbnail && { thumbnail: preview.thumbnail }),
    };
    const sent = await this.send(
      chatId,
      { attachment, ...(info.text !== undefined && { text: info.text }) },
      sendOptions,
    );
    return { ...sent, attachment, ...(preview.note !== undefined && { previewNote: preview.note }) };
  }

  /**
   * Downloads an attachment, checks and decrypts it, and checks that an image, voice note or
   * video is the type its pointer says (MEDIA_TYPE_MISMATCH) and that an image is within
   * `maxImagePixels` (IMAGE_TOO_LARGE), before anything renders it.
   */
  async download(
    attachment: AttachmentPointer,
    options: Pick<DownloadOptions, 'onProgress' | 'signal' | 'have' | 'onChunk'> = {},
  ): Promise<Uint8Array> {
    const ciphertext = await downloadMedia(this.client.credentials, attachment.mediaId, options);
    const bytes = await decryptAttachment(ciphertext, attachment.key, attachment.digest);
    checkMediaType(bytes, attachment.mime, this.options.maxImagePixels);
    return bytes;
  }

  /** The safety number of this user and `userId` over every device identity key of both. */
  async safetyNumber(userId: string): Promise<SafetyNumber> {
    const keys = await this.client.identityKeys([this.me.userId, userId]);
    const of = (u: string) => keys.filter((k) => k.userId === u).map((k) => k.identityKey);
    return safetyNumber(
      { userId: this.me.userId, identityKeys: of(this.me.userId) },
      { userId, identityKeys: of(userId) },
    );
  }

  // -- profiles ---------------------------------------------------------------------------

  /**
   * Sets this user's profile (name 1-64 characters, about at most 140, avatar an uploaded
   * image: see `uploadAvatar`); fields left out keep their value. Encrypted with the profile
   * key, which is made on first use and sent to the people this user talks to.
   */
  setProfile(changes: ProfileChanges): Promise<UserProfile> {
    return this.profiles.set(changes);
  }

  /** Encrypts an image and uploads it, for `setProfile({ avatar })`. */
  async uploadAvatar(bytes: Uint8Array, mime = 'image/jpeg'): Promise<AttachmentPointer> {
    const enc = await encryptAttachment(bytes);
    const { mediaId } = await uploadMedia(this.client.credentials, enc.ciphertext, {
      mediaClass: 'image',
      use: 'avatar',
    });
    return { mediaId, key: enc.key, digest: enc.digest, size: enc.size, mime };
  }

  /**
   * The decrypted profile of `userId` (this user's too), from this device's store; with
   * `refresh` it is fetched first. Undefined while this device has no profile key of theirs.
   */
  async profile(userId: string, options: { refresh?: boolean } = {}): Promise<UserProfile | undefined> {
    if (options.refresh) await this.profiles.refresh([userId]);
    return this.profiles.cached(userId);
  }

  /** Every decrypted profile this device holds (for showing names). */
  knownProfiles(): Promise<UserProfile[]> {
    return this.profiles.allCached();
  }

  /**
   * Makes a new profile key, encrypts the profile again under it, and sends it only to the
   * contacts it is shared with: `exclude` names users who must not get it, `shareWith` the
   * only ones who may. Withheld users keep what they saw but cannot read any later version;
   * `shareProfileWith` lets them have it again. Blocking needs none of this: a block made on
   * this device rotates the key, and every device withholds it from blocked users.
   */
  rotateProfileKey(options: RotateOptions = {}): Promise<UserProfile | undefined> {
    return this.profiles.rotate(options);
  }

  /** Users the profile key is withheld from (blocked users among them). */
  profileWithheldFrom(): Promise<string[]> {
    return this.profiles.withheld();
  }

  /** Lets withheld users get the profile key again, with the next message sent to them (not while blocked). */
  shareProfileWith(userIds: readonly string[]): Promise<void> {
    return this.profiles.shareWith(userIds);
  }

  /**
   * Resolves once the block lists heard so far are applied to the profile key: after
   * `client.block` (or a report that blocks), the key is rotated withholding it from the
   * blocked user; after `client.unblock`, the key is sent to them again.
   */
  blocksSettled(): Promise<void> {
    return this.profiles.blocksSettled();
  }

  /** A control message that carries the profile key to the chat's members who need it. */
  private sendProfileKey(chatId: string): Promise<void> {
    return this.serial(async () => {
      await this.withDevices(
        chatId,
        (payload) => this.client.send(chatId, payload, { clientMessageId: newClientMessageId() }),
        { control: 'profileKey' },
        true,
      );
    });
  }

  // -- sending ----------------------------------------------------------------------------

  /**
   * Encrypts `plaintext` for every current device of `userId` but this one, over the same
   * pairwise sessions as messages (call signaling: calls/calls.ts). Nothing is sent.
   */
  sealForUser(
    userId: string,
    plaintext: Uint8Array,
  ): Promise<Array<{ deviceId: string; payload: Uint8Array }>> {
    return this.serial(async () => {
      const recipients = new Map<string, string>();
      for (const l of await this.client.listDevices([userId])) {
        await this.learnDevices(l.userId, l.deviceIds);
        for (const d of l.deviceIds) if (d !== this.me.deviceId) recipients.set(d, l.userId);
      }
      await this.ensureSessions(recipients);
      const out: Array<{ deviceId: string; payload: Uint8Array }> = [];
      for (const deviceId of recipients.keys())
        out.push({ deviceId, payload: tagged(PAIRWISE, await this.protocol.encrypt(deviceId, plaintext)) });
      return out;
    });
  }

  /** Encrypts `plaintext` for one device of `userId` (see sealForUser). */
  sealForDevice(userId: string, deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      await this.ensureSessions(new Map([[deviceId, userId]]));
      return tagged(PAIRWISE, await this.protocol.encrypt(deviceId, plaintext));
    });
  }

  /** Decrypts what `sealForUser` or `sealForDevice` made on device `senderDeviceId`. */
  open(senderDeviceId: string, payload: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      if (payload[0] !== PAIRWISE) throw new ParleyError('INVALID_ARGUMENT', 'not a pairwise ciphertext');
      return this.protocol.decrypt(senderDeviceId, payload.subarray(1));
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.sendTail.then(fn, fn);
    this.sendTail = run.catch(() => {});
    return run;
  }

  /** Encrypts for the chat's current devices and sends; on DEVICE_MISMATCH refreshes and retries. */
  private async withDevices(
    chatId: string,
    sendOnce: (payload: SendContent, recipients: ReadonlyMap<string, string>) => Promise<SendResult>,
    content: Envelope,
    control = false,
  ): Promise<SendResult> {
    for (let attempt = 0; ; attempt++) {
      const chat = await this.client.getChat(chatId);
      const users = chat.members.map((m) => m.userId);
      const recipients = await this.recipientDevices(users);
      const keys = await this.profileKeysFor(recipients);
      const payload =
        chat.kind === ChatKind.GROUP && !control
          ? await this.encryptGroup(chatId, recipients, content, keys)
          : await this.encryptPairwise(recipients, content, keys);
      try {
        const result = await sendOnce(payload, recipients);
        if (!(payload instanceof Uint8Array) && keys.key) {
          await this.profiles
            .markShared(keys.users, keys.key)
            .catch((err) => this.emit('error', err as Error));
        }
        if (chat.kind === ChatKind.GROUP && !control && !(payload instanceof Uint8Array)) {
          await this.setDistributed(chatId, [...recipients.keys()]);
        }
        // Kept to be encrypted again for a device that cannot decrypt this copy.
        await this.retries
          .sent(chatId, result.seq, content, chat.kind === ChatKind.GROUP && !control)
          .catch((err) => this.emit('error', err as Error));
        return result;
      } catch (err) {
        if (
          !(err instanceof ParleyError) ||
          err.code !== 'DEVICE_MISMATCH' ||
          attempt >= MAX_MISMATCH_RETRIES
        ) {
          throw err;
        }
        const current = (err.details as MismatchDetails | undefined)?.deviceMismatch?.current ?? [];
        for (const u of current) await this.learnDevices(u.userId, u.deviceIds);
      }
    }
  }

  /** Device id → user id of every device of `users` but this one; refreshes the lists. */
  private async recipientDevices(users: readonly string[]): Promise<Map<string, string>> {
    const lists = await this.client.listDevices([...new Set([...users, this.me.userId])]);
    for (const l of lists) await this.learnDevices(l.userId, l.deviceIds);
    const out = new Map<string, string>();
    for (const l of lists) for (const d of l.deviceIds) if (d !== this.me.deviceId) out.set(d, l.userId);
    return out;
  }

  /** The profile key, when some recipients need it, and which users those are. */
  private async profileKeysFor(
    recipients: Map<string, string>,
  ): Promise<{ key: Uint8Array | undefined; users: Set<string> }> {
    const users = new Set<string>();
    let key: Uint8Array | undefined;
    for (const u of new Set([...recipients.values(), this.me.userId])) {
      const k = await this.profiles.keyFor(u);
      if (k) {
        key = k;
        users.add(u);
      }
    }
    return { key, users };
  }

  private async encryptPairwise(
    recipients: Map<string, string>,
    content: Envelope,
    keys: { key: Uint8Array | undefined; users: Set<string> } = { key: undefined, users: new Set() },
  ): Promise<SendContent> {
    await this.ensureSessions(recipients);
    const plain = encodeEnvelope(content);
    const withKey = keys.key ? encodeEnvelope({ ...content, profileKey: keys.key }) : plain;
    const out: Array<{ deviceId: string; payload: Uint8Array }> = [];
    for (const [deviceId, userId] of recipients) {
      const body = keys.users.has(userId) ? withKey : plain;
      out.push({ deviceId, payload: tagged(PAIRWISE, await this.protocol.encrypt(deviceId, body)) });
    }
    return out;
  }

  private async encryptGroup(
    chatId: string,
    recipients: Map<string, string>,
    content: Envelope,
    keys: { key: Uint8Array | undefined; users: Set<string> },
  ): Promise<SendContent> {
    let distributed = await this.distributed(chatId);
    if (distributed.some((d) => !recipients.has(d))) {
      // A device that had the key is no longer a recipient: it must not read what follows.
      await this.protocol.rotateSenderKey(chatId);
      distributed = [];
      await this.setDistributed(chatId, []);
    }
    const have = new Set(distributed);
    // A member who lacks the profile key gets this message pairwise, with it, as with the sender key.
    if (keys.users.size === 0 && recipients.size > 0 && [...recipients.keys()].every((d) => have.has(d))) {
      return tagged(GROUP, await this.protocol.groupEncrypt(chatId, encodeEnvelope(content)));
    }
    // Someone lacks the current sender key: this message goes pairwise, carrying it.
    const senderKey = await this.protocol.senderKeyDistribution(chatId);
    return this.encryptPairwise(recipients, { ...content, senderKey }, keys);
  }

  private async ensureSessions(recipients: Map<string, string>): Promise<void> {
    const missing = new Map<string, string[]>();
    for (const [deviceId, userId] of recipients) {
      if (!(await this.protocol.hasSession(deviceId)))
        missing.set(userId, [...(missing.get(userId) ?? []), deviceId]);
    }
    for (const [userId, deviceIds] of missing) {
      const bundles = await this.client.preKeyBundles(userId);
      for (const b of bundles) {
        if (deviceIds.includes(b.deviceId)) await this.protocol.startSession(b);
      }
      for (const d of deviceIds) {
        if (!(await this.protocol.hasSession(d))) {
          throw new ParleyError('UNAVAILABLE', `device ${d} has not published its keys yet`);
        }
      }
    }
  }

  private async replenish(count: number): Promise<void> {
    if (count <= 0) return;
    const oneTimePreKeys = await this.protocol.newOneTimePreKeys(Math.min(count, 100));
    await this.client.uploadKeys({ oneTimePreKeys });
  }

  private async distributed(chatId: string): Promise<string[]> {
    const raw = await this.kv.get(NS.distributed, chatId);
    return raw ? (JSON.parse(unutf8.decode(raw)) as string[]) : [];
  }

  private setDistributed(chatId: string, deviceIds: string[]): Promise<void> {
    return this.kv.put(NS.distributed, chatId, utf8.encode(JSON.stringify(deviceIds)));
  }

  // -- contacts' devices and security codes -------------------------------------------------

  /** Records a user's device list; when it changed, checks their identity keys. */
  private async learnDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    const known = this.devices.get(userId);
    const sorted = [...deviceIds].sort();
    if (known && known.join('\n') === sorted.join('\n')) return;
    this.devices.set(userId, sorted);
    if (userId !== this.me.userId) await this.checkIdentities(userId);
  }

  private async checkIdentities(userId: string): Promise<void> {
    const keys = (await this.client.identityKeys([userId]))
      .filter((k) => k.userId === userId)
      .map((k) => k.identityKey)
      .sort(compareBytes);
    const joined = concatBytes(...keys);
    const before = await this.kv.get(NS.contacts, userId);
    await this.kv.put(NS.contacts, userId, joined);
    if (before && compareBytes(before, joined) !== 0) this.emit('securityCodeChanged', { userId });
  }

  // -- receiving -----------------------------------------------------------------------------

  private async receive(m: ReceivedMessage): Promise<void> {
    const { payload, ...rest } = m;
    if (payload.length === 0) {
      await this.emitAndWait('message', { ...rest, content: {} });
      return;
    }
    let envelope: Envelope;
    try {
      const known = this.devices.get(m.senderUserId);
      if (m.senderUserId !== this.me.userId && !known?.includes(m.senderDeviceId)) {
        await this.learnDevices(m.senderUserId, [...(known ?? []), m.senderDeviceId]);
      }
      const body = payload.subarray(1);
      if (payload[0] === PAIRWISE) {
        envelope = decodeEnvelope(await this.protocol.decrypt(m.senderDeviceId, body));
        if (envelope.senderKey)
          await this.protocol.processSenderKeyDistribution(m.senderDeviceId, envelope.senderKey);
      } else if (payload[0] === GROUP) {
        envelope = decodeEnvelope(await this.protocol.groupDecrypt(m.senderDeviceId, body));
      } else {
        throw new ParleyError('INVALID_ARGUMENT', 'unknown payload encryption');
      }
    } catch (err) {
      let retrying = true;
      await this.retries.failed(rest).catch((e) => {
        retrying = false;
        this.emit('error', e as Error);
      });
      this.emit('decryptFailed', {
        chatId: m.chatId,
        seq: m.seq,
        senderUserId: m.senderUserId,
        senderDeviceId: m.senderDeviceId,
        error: err instanceof Error ? err : new Error(String(err)),
        retrying,
      });
      return;
    }
    if (envelope.profileKey) {
      // Before the message is shown, so the sender's name is known when it is.
      await this.profiles
        .received(m.senderUserId, envelope.profileKey)
        .catch((err) => this.emit('error', err as Error));
    }
    if (envelope.control) return; // keys only: nothing to show
    const { senderKey: _, resendOf: __, profileKey: ___, control: ____, ...content } = envelope;
    await this.emitAndWait('message', { ...rest, content });
  }
}
