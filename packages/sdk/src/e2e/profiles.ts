/**
 * Profiles on the device: this user's profile key and what it was shared with, contacts'
 * profile keys (learnt from their encrypted messages), and their decrypted profiles, all in
 * the device's key-value store. The server only ever sees ciphertext and versions.
 *
 * Sharing: every pairwise message to a user who does not hold the current key, and is not
 * withheld from it, carries the key inside its encryption (SecureMessaging asks `keyFor`).
 * A new or rotated key is also sent at once, in a control message, into chats whose members
 * lack it. Rotating makes a new key and withholds it from the users named: they keep what
 * they saw, but cannot decrypt any later version.
 *
 * Blocking: the user's block list (kept by the server, the same on every device) withholds
 * the key from every blocked user on every device. The device that made a block rotates the
 * key, so the blocked user cannot read later versions; the device that made an unblock
 * shares the key again at once. Other devices only follow the list: they never rotate for it,
 * and never send the key to a blocked user.
 *
 * Receiving: a `profileChanged` push, or the catch-up after connecting, names users with a
 * newer version; those whose key this device holds are fetched, decrypted and cached, and a
 * `changed` callback follows for each.
 */
import { ChatKind, ParleyError } from '@parley/protocol';
import type { ParleyClient } from '../client.js';
import { constantTimeEqual } from '../crypto/bytes.js';
import type { KeyValueStore } from '../crypto/types.js';
import type { AttachmentPointer } from './content.js';
import { newProfileKey, openProfile, type ProfileContent, sealProfile } from './profile-cipher.js';

/** A decrypted profile. */
export interface UserProfile extends ProfileContent {
  userId: string;
  version: number;
  /** When the server stored this version (ms since the epoch). */
  updatedAt: number;
}

/** What `setProfile` changes; fields left out keep their current value. */
export interface ProfileChanges {
  name?: string;
  about?: string;
  /** An uploaded image's pointer, or null to remove the avatar. */
  avatar?: AttachmentPointer | null;
}

export interface RotateOptions {
  /** Users who must not get the new key (e.g. someone just blocked). */
  exclude?: readonly string[];
  /** Only these users (and this user's own devices) get the new key; every other contact is withheld. */
  shareWith?: readonly string[];
}

export interface ProfileBookDeps {
  client: ParleyClient;
  kv: KeyValueStore;
  /** Sends a control message carrying the profile key into a chat (pairwise); resolves once stored. */
  sendKey(chatId: string): Promise<void>;
  changed(profile: UserProfile): void;
  error(err: Error): void;
}

const NS = {
  own: 'profile-own',
  keys: 'profile-keys',
  shared: 'profile-shared',
  withheld: 'profile-withheld',
  /** Blocked users, each with the fingerprint of this user's key when the block was heard ('' without a key). */
  blocked: 'profile-blocked',
  cache: 'profile-cache',
} as const;
const utf8 = new TextEncoder();
const unutf8 = new TextDecoder();
const FETCH_BATCH = 256;

async function fingerprint(key: Uint8Array): Promise<string> {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(key)));
  return [...d.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class ProfileBook {
  private readonly me: string;
  private queued = new Set<string>();
  private flushing: Promise<void> | undefined;
  private ownFp: { key: Uint8Array; fp: string } | undefined;
  /** Read-through copies of what the store holds (sends ask for every recipient). */
  private own: Uint8Array | null | undefined;
  private readonly sharedMemo = new Map<string, string | null>();
  private readonly withheldMemo = new Map<string, boolean>();
  private blockedMemo: Map<string, string> | undefined;
  private blockTail: Promise<void> = Promise.resolve();

  constructor(private readonly d: ProfileBookDeps) {
    this.me = d.client.credentials.userId;
  }

  // -- this user's profile ------------------------------------------------------------------

  /** Stores a new version of this user's profile (a key is made on first use and shared). */
  async set(changes: ProfileChanges): Promise<UserProfile> {
    const current = await this.cached(this.me);
    const content: ProfileContent = {
      name: changes.name ?? current?.name ?? '',
      about: changes.about ?? current?.about ?? '',
      ...(changes.avatar === null
        ? {}
        : changes.avatar
          ? { avatar: changes.avatar }
          : current?.avatar && { avatar: current.avatar }),
    };
    let key = await this.ownKey();
    const fresh = !key;
    if (!key) {
      key = newProfileKey();
      await this.setOwnKey(key);
    }
    const stored = await this.upload(key, content);
    if (fresh) await this.distribute();
    return stored;
  }

  /**
   * A new profile key: the profile is encrypted again under it and the new key goes, in
   * control messages, to the contacts it is shared with; withheld users cannot read later
   * versions. Resolves with the new version (undefined when this user has no profile yet).
   */
  async rotate(options: RotateOptions = {}): Promise<UserProfile | undefined> {
    for (const u of options.exclude ?? []) await this.setWithheld(u, true);
    if (options.shareWith) {
      const keep = new Set([...options.shareWith, this.me]);
      for (const chat of await this.d.client.listChats()) {
        for (const m of chat.members) if (!keep.has(m.userId)) await this.setWithheld(m.userId, true);
      }
      for (const u of options.shareWith) await this.setWithheld(u, false);
    }
    const key = newProfileKey();
    await this.setOwnKey(key);
    const current = await this.cached(this.me);
    const stored = current
      ? await this.upload(key, {
          name: current.name,
          about: current.about,
          ...(current.avatar && { avatar: current.avatar }),
        })
      : undefined;
    await this.distribute();
    return stored;
  }

  /** Users this device does not share its profile key with: blocked ones, and those withheld by `rotate` (until `shareWith`). */
  async withheld(): Promise<string[]> {
    const blocked = await this.blocked();
    return [...new Set([...(await this.d.kv.keys(NS.withheld)), ...blocked.keys()])].sort();
  }

  // -- blocking -----------------------------------------------------------------------------

  /**
   * The user's block list as last heard (`madeHere`: the answer to a block, unblock or report
   * made on this device). Lists are applied one at a time, in order. Resolves when this one is.
   */
  blockListChanged(userIds: readonly string[], madeHere: boolean): Promise<void> {
    const run = this.blockTail.then(() => this.applyBlockList(userIds, madeHere));
    this.blockTail = run.catch((err) => this.d.error(err as Error));
    return this.blockTail;
  }

  /** Resolves once every block list heard so far is applied, with the rotation or sharing it caused. */
  blocksSettled(): Promise<void> {
    return this.blockTail;
  }

  private async applyBlockList(userIds: readonly string[], madeHere: boolean): Promise<void> {
    const known = await this.blocked();
    const now = new Set(userIds);
    const key = await this.ownKey();
    const fp = key ? await this.ownFingerprint(key) : '';
    const unblocked = [...known.keys()].filter((u) => !now.has(u));
    for (const u of now) {
      if (known.has(u) || u === this.me) continue;
      await this.d.kv.put(NS.blocked, u, utf8.encode(fp));
      known.set(u, fp);
    }
    for (const u of unblocked) {
      await this.d.kv.delete(NS.blocked, u);
      known.delete(u);
    }
    if (!madeHere) return;
    // A blocked user may hold the current key when it was already current as the block was
    // heard (here or on another device that did not rotate); a key made since never went to them.
    if (key && [...now].some((u) => known.get(u) === fp)) await this.rotate();
    if (unblocked.length > 0) {
      await this.shareWith(unblocked);
      await this.distribute();
    }
  }

  private async blocked(): Promise<Map<string, string>> {
    if (!this.blockedMemo) {
      const m = new Map<string, string>();
      for (const u of await this.d.kv.keys(NS.blocked)) {
        const raw = await this.d.kv.get(NS.blocked, u);
        m.set(u, raw ? unutf8.decode(raw) : '');
      }
      this.blockedMemo ??= m;
    }
    return this.blockedMemo;
  }

  /** Lets these users get the profile key again, with the next message they are sent. */
  async shareWith(userIds: readonly string[]): Promise<void> {
    for (const u of userIds) await this.setWithheld(u, false);
  }

  // -- what goes into outgoing messages ----------------------------------------------------

  /** The profile key to put in a message to `userId`'s devices, when they need it. */
  async keyFor(userId: string): Promise<Uint8Array | undefined> {
    const key = await this.ownKey();
    if (!key) return undefined;
    if (userId !== this.me && (await this.isWithheld(userId))) return undefined;
    const fp = await this.ownFingerprint(key);
    let shared = this.sharedMemo.get(userId);
    if (shared === undefined) {
      const raw = await this.d.kv.get(NS.shared, userId);
      shared = raw ? unutf8.decode(raw) : null;
      this.sharedMemo.set(userId, shared);
    }
    return shared === fp ? undefined : key;
  }

  /** The profile key for a message sent again to `userId`'s device: any time it is not withheld. */
  async keyForResend(userId: string): Promise<Uint8Array | undefined> {
    if (userId !== this.me && (await this.isWithheld(userId))) return undefined;
    return this.ownKey();
  }

  /** A message carrying `key` reached the server for these users' devices. */
  async markShared(userIds: Iterable<string>, key: Uint8Array): Promise<void> {
    const fp = await fingerprint(key);
    for (const u of userIds) {
      await this.d.kv.put(NS.shared, u, utf8.encode(fp));
      this.sharedMemo.set(u, fp);
    }
  }

  // -- contacts' profiles -------------------------------------------------------------------

  /** A profile key arrived inside a message from `userId`. */
  async received(userId: string, key: Uint8Array): Promise<void> {
    if (userId === this.me) {
      // Another device of this user made or rotated the key.
      const own = await this.ownKey();
      if (own && constantTimeEqual(own, key)) return;
      await this.setOwnKey(key);
      await this.refresh([this.me], true);
      return;
    }
    const known = await this.d.kv.get(NS.keys, userId);
    if (known && constantTimeEqual(known, key)) return;
    await this.d.kv.put(NS.keys, userId, key);
    await this.refresh([userId], true);
  }

  /** The decrypted profile of `userId` this device holds, undefined when none. */
  async cached(userId: string): Promise<UserProfile | undefined> {
    const raw = await this.d.kv.get(NS.cache, userId);
    if (!raw) return undefined;
    const p = JSON.parse(unutf8.decode(raw)) as UserProfile & { avatar?: SerializedPointer };
    return { ...p, ...(p.avatar && { avatar: pointerFromStore(p.avatar) }) };
  }

  /** Every decrypted profile this device holds. */
  async allCached(): Promise<UserProfile[]> {
    const out: UserProfile[] = [];
    for (const u of await this.d.kv.keys(NS.cache)) {
      const p = await this.cached(u);
      if (p) out.push(p);
    }
    return out;
  }

  /** A server notice: `userId` stored `version`. Fetched (batched) when newer than the one held. */
  noticed(userId: string, version: number): void {
    void this.cached(userId).then((c) => {
      if (c && c.version >= version) return;
      this.queued.add(userId);
      this.flushing ??= Promise.resolve().then(() => this.flush());
    });
  }

  /** Catches up on versions stored while this device was away (after each connect). */
  async catchUp(): Promise<void> {
    const sinceRaw = await this.d.kv.get(NS.own, 'since');
    let since = sinceRaw ? Number(unutf8.decode(sinceRaw)) : 0;
    let after = '';
    let next: number | undefined;
    const stale: string[] = [];
    for (;;) {
      const page = await this.d.client.profileChanges(since, after);
      next ??= page.serverTime;
      for (const p of page.profiles) {
        const c = await this.cached(p.userId);
        if (!c || c.version < p.version) stale.push(p.userId);
      }
      const last = page.profiles[page.profiles.length - 1];
      if (!page.more || !last) break;
      since = last.updatedAt;
      after = last.userId;
    }
    await this.refresh(stale);
    await this.d.kv.put(NS.own, 'since', utf8.encode(String(next)));
  }

  /**
   * Fetches these users' profiles and decrypts those newer than the cached ones (all of them
   * when `force`); a profile this device has no key for, or that does not decrypt, is skipped.
   */
  async refresh(userIds: readonly string[], force = false): Promise<void> {
    const unique = [...new Set(userIds)];
    for (let i = 0; i < unique.length; i += FETCH_BATCH) {
      for (const sealed of await this.d.client.getProfiles(unique.slice(i, i + FETCH_BATCH))) {
        const cached = await this.cached(sealed.userId);
        if (!force && cached && cached.version >= sealed.version) continue;
        if (cached && cached.version > sealed.version) continue;
        const key =
          sealed.userId === this.me ? await this.ownKey() : await this.d.kv.get(NS.keys, sealed.userId);
        if (!key) continue;
        let content: ProfileContent;
        try {
          content = await openProfile(key, sealed.userId, sealed.version, sealed.ciphertext);
        } catch {
          continue; // sealed under a key this device was not given
        }
        const profile: UserProfile = {
          userId: sealed.userId,
          version: sealed.version,
          updatedAt: sealed.updatedAt,
          ...content,
        };
        if (cached && sameProfile(cached, profile)) continue;
        await this.store(profile);
        this.d.changed(profile);
      }
    }
  }

  // -- internals ----------------------------------------------------------------------------

  private async flush(): Promise<void> {
    while (this.queued.size > 0) {
      const batch = [...this.queued];
      this.queued = new Set();
      await this.refresh(batch).catch((err) => this.d.error(err as Error));
    }
    this.flushing = undefined;
  }

  private async upload(key: Uint8Array, content: ProfileContent): Promise<UserProfile> {
    for (let attempt = 0; ; attempt++) {
      const [current] = await this.d.client.getProfiles([this.me]);
      const version = (current?.version ?? 0) + 1;
      const sealed = await sealProfile(key, this.me, version, content);
      try {
        const stored = await this.d.client.setProfile(version, sealed);
        const profile: UserProfile = {
          userId: this.me,
          version,
          updatedAt: stored.updatedAt,
          name: content.name,
          about: content.about,
          ...(content.avatar && { avatar: content.avatar }),
        };
        await this.store(profile);
        return profile;
      } catch (err) {
        // Another device stored that version first: take the next one.
        if (!(err instanceof ParleyError && err.code === 'PROFILE_VERSION_STALE') || attempt >= 3) throw err;
      }
    }
  }

  /** Sends the key into chats until every member who should hold it does. */
  private async distribute(): Promise<void> {
    const chats = (await this.d.client.listChats()).sort((a, b) => a.kind - b.kind); // direct chats first
    const blocked = await this.blocked();
    for (const chat of chats) {
      // Nothing may be sent into a direct chat with a blocked user.
      if (chat.kind === ChatKind.DIRECT && chat.members.some((m) => blocked.has(m.userId))) continue;
      let needed = false;
      for (const m of chat.members) if (await this.keyFor(m.userId)) needed = true;
      if (needed) await this.d.sendKey(chat.id).catch((err) => this.d.error(err as Error));
    }
  }

  private async store(p: UserProfile): Promise<void> {
    const json = { ...p, ...(p.avatar && { avatar: pointerToStore(p.avatar) }) };
    await this.d.kv.put(NS.cache, p.userId, utf8.encode(JSON.stringify(json)));
  }

  private async ownKey(): Promise<Uint8Array | undefined> {
    if (this.own === undefined) this.own = (await this.d.kv.get(NS.own, 'key')) ?? null;
    return this.own ?? undefined;
  }

  private async setOwnKey(key: Uint8Array): Promise<void> {
    await this.d.kv.put(NS.own, 'key', key);
    this.own = Uint8Array.from(key);
    this.ownFp = undefined;
  }

  private async isWithheld(userId: string): Promise<boolean> {
    if ((await this.blocked()).has(userId)) return true;
    let w = this.withheldMemo.get(userId);
    if (w === undefined) {
      w = (await this.d.kv.get(NS.withheld, userId)) !== undefined;
      this.withheldMemo.set(userId, w);
    }
    return w;
  }

  private async setWithheld(userId: string, withheld: boolean): Promise<void> {
    if (withheld) await this.d.kv.put(NS.withheld, userId, utf8.encode('1'));
    else await this.d.kv.delete(NS.withheld, userId);
    this.withheldMemo.set(userId, withheld);
  }

  private async ownFingerprint(key: Uint8Array): Promise<string> {
    if (this.ownFp?.key !== key) this.ownFp = { key, fp: await fingerprint(key) };
    return this.ownFp.fp;
  }
}

type SerializedPointer = Omit<AttachmentPointer, 'key' | 'digest'> & { key: number[]; digest: number[] };

function pointerToStore(a: AttachmentPointer): SerializedPointer {
  return { ...a, key: [...a.key], digest: [...a.digest] };
}

function pointerFromStore(a: SerializedPointer): AttachmentPointer {
  return { ...a, key: Uint8Array.from(a.key), digest: Uint8Array.from(a.digest) };
}

function sameProfile(a: UserProfile, b: UserProfile): boolean {
  return (
    a.version === b.version &&
    a.name === b.name &&
    a.about === b.about &&
    a.avatar?.mediaId === b.avatar?.mediaId
  );
}
