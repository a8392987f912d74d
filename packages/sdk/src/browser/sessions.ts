/**
 * Pairwise sessions of a browser device that interoperate with the Node SDK's libsignal
 * sessions: PQXDH (X25519 + Kyber-1024), the double ratchet and SPQR's epoch-0 chain (see
 * spqr-chain.ts for what that leaves out), over libsignal's version-4 wire format and the
 * Node SDK's framing (one type byte: 3 for a first message, 2 after). Per remote device, a
 * current state and up to 40 earlier ones (as libsignal), so two devices that start
 * sessions with each other at once still read each other. State lives in a KeyValueStore;
 * calls run one at a time; a failed decryption changes nothing.
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import type { KeyUpload, KeyValueStore, PreKeyBundle } from '../crypto/types.js';
import { asE2eError } from './as-e2e-error.js';
import { decapsulate } from './kyber1024.js';
import { KeyNamespaces, LocalKeys } from './local-keys.js';
import { decryptInSession, encryptInSession } from './session-cipher.js';
import { accept, initiate, type Session, sameBytes } from './session-state.js';
import { decodePreKeyMessage, type PreKeyMessageFields } from './signal-wire.js';
import { getJson, putJson } from './stored-json.js';

export const FRAME_WHISPER = 2;
export const FRAME_PREKEY = 3;
/** Earlier session states kept per device (libsignal's ARCHIVED_STATES_MAX_LENGTH). */
export const MAX_PREVIOUS_STATES = 40;

interface SessionRecord {
  current: Session;
  previous: Session[];
}

export class BrowserSessions {
  private readonly keys: LocalKeys;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly kv: KeyValueStore) {
    this.keys = new LocalKeys(kv);
  }

  initKeys(oneTimeCount: number): Promise<KeyUpload> {
    return this.serial(() => this.keys.initKeys(oneTimeCount));
  }

  hasSession(deviceId: string): Promise<boolean> {
    return this.serial(async () => (await this.load(deviceId)) !== undefined);
  }

  startSession(bundle: PreKeyBundle): Promise<void> {
    return this.serial(async () => {
      const id = await this.keys.identity();
      const session = await initiate(bundle, id.keyPair, id.registrationId);
      await this.save(bundle.deviceId, { current: session, previous: await this.archived(bundle.deviceId) });
    });
  }

  encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      const record = await this.load(deviceId);
      if (!record) throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
      const { prekey, body } = await encryptInSession(record.current, plaintext);
      await this.save(deviceId, record);
      return concatBytes(Uint8Array.of(prekey ? FRAME_PREKEY : FRAME_WHISPER), body);
    });
  }

  /** Fails with E2eError only (another error from a primitive becomes BAD_MESSAGE). */
  decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.serial(() => asE2eError(() => this.decryptNow(deviceId, ciphertext)));
  }

  private decryptNow(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return (async () => {
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
      const session = await this.respond(first, deviceId);
      const plaintext = await decryptInSession(session, first.message, deviceId);
      await this.save(deviceId, { current: session, previous: await this.archived(deviceId) });
      if (first.preKeyId !== undefined) await this.keys.deletePreKey(first.preKeyId);
      return plaintext;
    })();
  }

  /** The current state first, then earlier ones; the one that decrypts becomes current. */
  private async decryptWhisper(deviceId: string, body: Uint8Array): Promise<Uint8Array> {
    const record = await this.load(deviceId);
    if (!record) throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
    let firstError: unknown;
    for (const [i, session] of [record.current, ...record.previous].entries()) {
      try {
        const plaintext = await decryptInSession(session, body, deviceId);
        await this.save(deviceId, promote(record, i));
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
        signedPreKey,
        ...(oneTime && { oneTimePreKey: oneTime }),
        kyberSecret: decapsulate(first.kyberCiphertext, kyber.secretKey),
      },
      first.identityKey,
      first.baseKey,
    );
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

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Makes state `index` of [current, ...previous] current, keeping the others in order. */
function promote(record: SessionRecord, index: number): SessionRecord {
  if (index === 0) return record;
  const states = [record.current, ...record.previous];
  const [chosen] = states.splice(index, 1);
  return { current: chosen!, previous: states };
}
