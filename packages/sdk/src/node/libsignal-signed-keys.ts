/**
 * The lifecycle of the device's signed keys (EC signed prekey and Kyber last-resort key):
 * current (published), pending (made for an upload not yet confirmed), retired (replaced,
 * kept so first messages to them still decrypt), deleted. Invariants: the lifecycle is one
 * stored value, so each step is one write; private halves are saved before that value names
 * them, so a crash leaves at most a key nobody was given, which the next pruning deletes; ids
 * come from LocalKeys' reserved counters and are never reused. Callers serialize the calls.
 */
import { E2eError } from '../crypto/errors.js';
import type { KeyValueStore, PrunedKeys, SignedKey, SignedKeys, SignedKeysStatus } from '../crypto/types.js';
import type { LocalKeys } from './libsignal-keys.js';
import {
  type KvKyberPreKeyStore,
  type KvSignedPreKeyStore,
  Namespaces,
  parseUsedKyberKey,
} from './libsignal-stores.js';

const LIFECYCLE_KEY = 'signed-keys';

interface KeyPairIds {
  signedPreKeyId: number;
  lastResortKeyId: number;
  createdAt: number;
}

interface RetiredKey {
  kind: 'signed' | 'kyber';
  id: number;
  retiredAt: number;
}

interface Lifecycle {
  current?: KeyPairIds;
  pending?: KeyPairIds;
  retired: RetiredKey[];
}

export interface SignedKeyStores {
  signedPreKeys: KvSignedPreKeyStore;
  kyberPreKeys: KvKyberPreKeyStore;
}

export class SignedKeyRing {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly keys: LocalKeys,
    private readonly stores: SignedKeyStores,
    private readonly now: () => number,
  ) {}

  async status(): Promise<SignedKeysStatus | undefined> {
    const { current, retired } = await this.load();
    if (!current) return undefined;
    const oldest = Math.min(...retired.map((r) => r.retiredAt));
    return {
      signedPreKeyId: current.signedPreKeyId,
      lastResortKeyId: current.lastResortKeyId,
      createdAt: current.createdAt,
      ...(retired.length > 0 && { oldestRetiredAt: oldest }),
    };
  }

  /** A new current pair at once (first upload): the current and any pending pair are retired. */
  async replace(): Promise<SignedKeys> {
    const state = await this.load();
    const keys = await this.newPair();
    const now = this.now();
    await this.save({
      current: idsOf(keys, now),
      retired: [...state.retired, ...retire(state.current, now), ...retire(state.pending, now)],
    });
    return keys;
  }

  /** The pending pair, made now unless an earlier call made one that is not committed yet. */
  async rotate(): Promise<SignedKeys> {
    const state = await this.load();
    if (state.pending) return this.publicHalves(state.pending);
    const keys = await this.newPair();
    await this.save({ ...state, pending: idsOf(keys, this.now()) });
    return keys;
  }

  async commit(keys: SignedKeys): Promise<void> {
    const state = await this.load();
    if (sameIds(state.current, keys)) return;
    if (!state.pending || !sameIds(state.pending, keys)) {
      throw new E2eError('INVALID_ARGUMENT', 'these signed keys are not the pending rotation');
    }
    await this.save({
      current: state.pending,
      retired: [...state.retired, ...retire(state.current, this.now())],
    });
  }

  /**
   * Deletes keys retired at least `olderThanMs` ago, keys no step names that are as old (left
   * by a crash before they were handed out), and used-Kyber records naming a key that is not
   * kept. Records go first, then the lifecycle: a crash in between repeats the deletes.
   */
  async prune(olderThanMs: number): Promise<PrunedKeys> {
    const state = await this.load();
    const cutoff = this.now() - olderThanMs;
    const kept = state.retired.filter((r) => r.retiredAt > cutoff);
    const named = { signed: new Set<number>(), kyber: new Set<number>() };
    for (const pair of [state.current, state.pending]) {
      if (!pair) continue;
      named.signed.add(pair.signedPreKeyId);
      named.kyber.add(pair.lastResortKeyId);
    }
    for (const r of kept) named[r.kind].add(r.id);
    const signed = await this.sortIds(Namespaces.signedPreKey, named.signed, cutoff, async (id) =>
      (await this.stores.signedPreKeys.getSignedPreKey(id)).timestamp(),
    );
    const kyber = await this.sortIds(Namespaces.kyberPreKey, named.kyber, cutoff, async (id) =>
      (await this.stores.kyberPreKeys.getKyberPreKey(id)).timestamp(),
    );

    let usedKyberRecords = 0;
    for (const key of await this.kv.keys(Namespaces.kyberUsed)) {
      const { kyberId, signedPreKeyId } = parseUsedKyberKey(key);
      if (kyber.kept.has(kyberId) && signed.kept.has(signedPreKeyId)) continue;
      await this.kv.delete(Namespaces.kyberUsed, key);
      usedKyberRecords++;
    }
    for (const id of signed.gone) await this.kv.delete(Namespaces.signedPreKey, String(id));
    for (const id of kyber.gone) await this.kv.delete(Namespaces.kyberPreKey, String(id));
    if (kept.length !== state.retired.length) await this.save({ ...state, retired: kept });
    return { signedPreKeyIds: signed.gone, lastResortKeyIds: kyber.gone, usedKyberRecords };
  }

  /**
   * Splits the stored ids of `ns`: a key stays when a step names it or it was made after
   * `cutoff` (an unnamed new key may belong to a step under way). A key retired before the
   * cutoff was made before it too, so it goes.
   */
  private async sortIds(
    ns: string,
    named: Set<number>,
    cutoff: number,
    madeAt: (id: number) => Promise<number>,
  ): Promise<{ kept: Set<number>; gone: number[] }> {
    const kept = new Set<number>();
    const gone: number[] = [];
    for (const id of (await this.kv.keys(ns)).map(Number)) {
      if (named.has(id) || (await madeAt(id)) > cutoff) kept.add(id);
      else gone.push(id);
    }
    return { kept, gone: gone.sort((a, b) => a - b) };
  }

  private async newPair(): Promise<SignedKeys> {
    return {
      signedPreKey: await this.keys.newSignedPreKey(),
      lastResortKey: await this.keys.newLastResortKey(),
    };
  }

  private async publicHalves(ids: KeyPairIds): Promise<SignedKeys> {
    const signed = await this.stores.signedPreKeys.getSignedPreKey(ids.signedPreKeyId);
    const kyber = await this.stores.kyberPreKeys.getKyberPreKey(ids.lastResortKeyId);
    const half = (id: number, publicKey: Uint8Array, signature: Uint8Array): SignedKey => ({
      id,
      publicKey,
      signature,
    });
    return {
      signedPreKey: half(ids.signedPreKeyId, signed.publicKey().serialize(), signed.signature()),
      lastResortKey: half(ids.lastResortKeyId, kyber.publicKey().serialize(), kyber.signature()),
    };
  }

  private async load(): Promise<Lifecycle> {
    const stored = await this.kv.get(Namespaces.meta, LIFECYCLE_KEY);
    if (stored) return JSON.parse(new TextDecoder().decode(stored)) as Lifecycle;
    return this.adopt();
  }

  private async save(state: Lifecycle): Promise<void> {
    await this.kv.put(Namespaces.meta, LIFECYCLE_KEY, new TextEncoder().encode(JSON.stringify(state)));
  }

  /**
   * A store written before the lifecycle was kept: the newest pair (the last `initKeys`, the
   * one uploaded) is current, made when its records say; older keys are retired now.
   */
  private async adopt(): Promise<Lifecycle> {
    const signed = (await this.kv.keys(Namespaces.signedPreKey)).map(Number);
    const kyber = (await this.kv.keys(Namespaces.kyberPreKey)).map(Number);
    if (signed.length === 0 && kyber.length === 0) return { retired: [] };
    const now = this.now();
    const state: Lifecycle = { retired: [] };
    if (signed.length > 0 && kyber.length > 0) {
      const signedPreKeyId = Math.max(...signed);
      const lastResortKeyId = Math.max(...kyber);
      const made = Math.min(
        (await this.stores.signedPreKeys.getSignedPreKey(signedPreKeyId)).timestamp(),
        (await this.stores.kyberPreKeys.getKyberPreKey(lastResortKeyId)).timestamp(),
      );
      state.current = { signedPreKeyId, lastResortKeyId, createdAt: made };
    }
    for (const id of signed) {
      if (id !== state.current?.signedPreKeyId) state.retired.push({ kind: 'signed', id, retiredAt: now });
    }
    for (const id of kyber) {
      if (id !== state.current?.lastResortKeyId) state.retired.push({ kind: 'kyber', id, retiredAt: now });
    }
    await this.save(state);
    return state;
  }
}

function idsOf(keys: SignedKeys, createdAt: number): KeyPairIds {
  return { signedPreKeyId: keys.signedPreKey.id, lastResortKeyId: keys.lastResortKey.id, createdAt };
}

function sameIds(pair: KeyPairIds | undefined, keys: SignedKeys): boolean {
  return pair?.signedPreKeyId === keys.signedPreKey.id && pair.lastResortKeyId === keys.lastResortKey.id;
}

function retire(pair: KeyPairIds | undefined, retiredAt: number): RetiredKey[] {
  if (!pair) return [];
  return [
    { kind: 'signed', id: pair.signedPreKeyId, retiredAt },
    { kind: 'kyber', id: pair.lastResortKeyId, retiredAt },
  ];
}
