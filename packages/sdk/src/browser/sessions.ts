/**
 * Pairwise sessions of a browser device that interoperate with the Node SDK's libsignal
 * sessions: PQXDH (X25519 + Kyber-1024), the double ratchet and SPQR's epoch-0 chain (see
 * spqr-chain.ts for what that leaves out), over libsignal's version-4 wire format and the
 * Node SDK's framing (one type byte: 3 for a first message, 2 after). Per remote device, a
 * current state and up to 40 earlier ones (as libsignal), so two devices that start
 * sessions with each other at once still read each other. A session never answered for 30
 * days can no longer encrypt (libsignal's limit). State lives in a KeyValueStore; the caller
 * (BrowserE2eProtocol) runs calls one at a time; a failed decryption changes nothing.
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import type { KeyValueStore, PreKeyBundle } from '../crypto/types.js';
import { decapsulate } from './kyber1024.js';
import { KeyNamespaces, type LocalKeys, usedKyberKey } from './local-keys.js';
import type { RemoteIdentities } from './remote-identities.js';
import { decryptInSession, encryptInSession } from './session-cipher.js';
import { accept, initiate, type Session, sameBytes } from './session-state.js';
import { decodePreKeyMessage, decodeSignalMessage, type PreKeyMessageFields } from './signal-wire.js';
import { getJson, putJson } from './stored-json.js';

export const FRAME_WHISPER = 2;
export const FRAME_PREKEY = 3;
/** Earlier session states kept per device (libsignal's ARCHIVED_STATES_MAX_LENGTH). */
export const MAX_PREVIOUS_STATES = 40;
/** An unanswered session stops encrypting after this (libsignal's MAX_UNACKNOWLEDGED_SESSION_AGE). */
export const MAX_UNANSWERED_SESSION_MS = 30 * 24 * 60 * 60 * 1000;

interface SessionRecord {
  current: Session;
  previous: Session[];
}

export interface SessionDeps {
  kv: KeyValueStore;
  keys: LocalKeys;
  identities: RemoteIdentities;
  now: () => number;
}

export class BrowserSessions {
  private readonly kv: KeyValueStore;
  private readonly keys: LocalKeys;
  private readonly identities: RemoteIdentities;
  private readonly now: () => number;

  constructor(deps: SessionDeps) {
    ({ kv: this.kv, keys: this.keys, identities: this.identities, now: this.now } = deps);
  }

  async hasSession(deviceId: string): Promise<boolean> {
    const record = await this.load(deviceId);
    return record !== undefined && this.usable(record.current);
  }

  /** BAD_BUNDLE when a signature fails or a key is malformed. */
  async startSession(bundle: PreKeyBundle): Promise<void> {
    const id = await this.keys.identity();
    let session: Session;
    try {
      session = await initiate(bundle, id.keyPair, id.registrationId);
    } catch (err) {
      if (err instanceof E2eError && err.code === 'BAD_BUNDLE') throw err;
      throw new E2eError('BAD_BUNDLE', `a key in the bundle of ${bundle.deviceId} is malformed`, {
        cause: err,
      });
    }
    session.pending!.createdAt = this.now();
    const previous = await this.archived(bundle.deviceId);
    await this.save(bundle.deviceId, { current: session, previous });
    await this.identities.save(bundle.deviceId, bundle.identityKey);
  }

  async encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const record = await this.load(deviceId);
    if (!record || !this.usable(record.current))
      throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
    const { prekey, body } = await encryptInSession(record.current, plaintext);
    await this.save(deviceId, record);
    return concatBytes(Uint8Array.of(prekey ? FRAME_PREKEY : FRAME_WHISPER), body);
  }

  async decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext.length < 2) throw new E2eError('BAD_MESSAGE', 'ciphertext too short');
    const type = ciphertext[0];
    const body = ciphertext.subarray(1);
    if (type === FRAME_WHISPER) return this.decryptWhisper(deviceId, body);
    if (type !== FRAME_PREKEY) throw new E2eError('BAD_MESSAGE', `unknown ciphertext type ${type}`);
    const first = decodePreKeyMessage(body);
    const record = await this.load(deviceId);
    const states = record ? [record.current, ...record.previous] : [];
    const known = states.findIndex((s) => sameBytes(s.baseKey, first.baseKey));
    if (record && known >= 0) {
      const plaintext = await decryptInSession(states[known]!, first.message, deviceId);
      await this.save(deviceId, promote(record, known));
      return plaintext;
    }
    // A first message seen before whose session is gone: a replay (libsignal refuses it too).
    const used = usedKyberKey(first.kyberPreKeyId, first.signedPreKeyId, first.baseKey);
    if (await this.kv.get(KeyNamespaces.kyberUsed, used)) {
      throw new E2eError('DECRYPT_FAILED', `a first message from ${deviceId} was replayed`);
    }
    const session = await this.respond(first, deviceId);
    const plaintext = await decryptInSession(session, first.message, deviceId);
    await this.save(deviceId, { current: session, previous: await this.archived(deviceId) });
    await this.kv.put(KeyNamespaces.kyberUsed, used, new Uint8Array(0));
    if (first.preKeyId !== undefined) await this.keys.deletePreKey(first.preKeyId);
    await this.identities.save(deviceId, first.identityKey);
    return plaintext;
  }

  /** The current state first, then earlier ones; the one that decrypts becomes current. */
  private async decryptWhisper(deviceId: string, body: Uint8Array): Promise<Uint8Array> {
    decodeSignalMessage(body); // malformed bytes are BAD_MESSAGE, with a session or without
    const record = await this.load(deviceId);
    if (!record) throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
    let firstError: unknown;
    for (const [i, session] of [record.current, ...record.previous].entries()) {
      try {
        const plaintext = await decryptInSession(session, body, deviceId);
        await this.save(deviceId, promote(record, i));
        await this.identities.save(deviceId, session.remoteIdentity);
        return plaintext;
      } catch (err) {
        firstError ??= err;
      }
    }
    throw firstError;
  }

  private async respond(first: PreKeyMessageFields, deviceId: string): Promise<Session> {
    const id = await this.keys.identity();
    const signedPreKey = await this.keys.signedPreKey(first.signedPreKeyId);
    const kyber = await this.keys.kyberPreKey(first.kyberPreKeyId);
    const oneTime = first.preKeyId === undefined ? undefined : await this.keys.preKey(first.preKeyId);
    if (!signedPreKey || !kyber || (first.preKeyId !== undefined && !oneTime)) {
      throw new E2eError(
        'UNKNOWN_PREKEY',
        `a first message from ${deviceId} needs a prekey this device no longer has`,
      );
    }
    return accept(
      {
        identity: id.keyPair,
        registrationId: id.registrationId,
        signedPreKey: signedPreKey.keyPair,
        ...(oneTime && { oneTimePreKey: oneTime }),
        kyberSecret: decapsulate(first.kyberCiphertext, kyber.keyPair.secretKey),
      },
      first.identityKey,
      first.baseKey,
    );
  }

  /** libsignal's rule: a session whose first messages were never answered expires. */
  private usable(session: Session): boolean {
    const made = session.pending?.createdAt;
    return made === undefined || this.now() - made <= MAX_UNANSWERED_SESSION_MS;
  }

  private load(deviceId: string): Promise<SessionRecord | undefined> {
    return getJson<SessionRecord>(this.kv, KeyNamespaces.session, deviceId);
  }

  private save(deviceId: string, record: SessionRecord): Promise<void> {
    return putJson(this.kv, KeyNamespaces.session, deviceId, record);
  }

  /** The states to keep when a new one becomes current: the old current one first. */
  private async archived(deviceId: string): Promise<Session[]> {
    const record = await this.load(deviceId);
    return record ? [record.current, ...record.previous].slice(0, MAX_PREVIOUS_STATES) : [];
  }
}

/** Makes state `index` of [current, ...previous] current, keeping the others in order. */
function promote(record: SessionRecord, index: number): SessionRecord {
  if (index === 0) return record;
  const states = [record.current, ...record.previous];
  const [chosen] = states.splice(index, 1);
  return { current: chosen!, previous: states };
}
