/**
 * The lifecycle of a device's signed keys (EC signed prekey and Kyber last-resort key),
 * shared by every E2eProtocol: current (published), pending (made for an upload not yet
 * confirmed), retired (replaced, kept so first messages to them still decrypt), deleted.
 * Invariants: the lifecycle is one stored value, so each step is one write; private halves
 * are saved (by the key source) before that value names them, so a crash leaves at most a key
 * nobody was given, which the next pruning deletes; ids come from the source's reserved
 * counters and are never reused. Callers serialize the calls.
 */
import { E2eError } from './errors.js';
import type { KeyValueStore, PrunedKeys, SignedKeys, SignedKeysStatus } from './types.js';

export type SignedKeyKind = 'signed' | 'kyber';

/** Where an implementation's signed keys and used-Kyber replay records live. */
export interface SignedKeySource {
  /** Makes a new pair, saving the private halves before returning the public ones. */
  newPair(): Promise<SignedKeys>;
  /** The public halves and signatures of two stored keys. */
  publicHalves(signedPreKeyId: number, lastResortKeyId: number): Promise<SignedKeys>;
  /** Ids of the stored keys of a kind, in any order. */
  storedIds(kind: SignedKeyKind): Promise<number[]>;
  /** When a stored key was made (ms since the epoch). */
  madeAt(kind: SignedKeyKind, id: number): Promise<number>;
  deleteKey(kind: SignedKeyKind, id: number): Promise<void>;
  /** The replay records of first messages, each naming the two keys it was made with. */
  usedKyberRecords(): Promise<{ key: string; kyberId: number; signedPreKeyId: number }[]>;
  deleteUsedKyberRecord(key: string): Promise<void>;
}

interface KeyPairIds {
  signedPreKeyId: number;
  lastResortKeyId: number;
  createdAt: number;
}

interface RetiredKey {
  kind: SignedKeyKind;
  id: number;
  retiredAt: number;
}

interface Lifecycle {
  current?: KeyPairIds;
  pending?: KeyPairIds;
  retired: RetiredKey[];
}

export class SignedKeyRing {
  /** The lifecycle is kept at (`ns`, `key`) of `kv`. */
  constructor(
    private readonly kv: KeyValueStore,
    private readonly at: { ns: string; key: string },
    private readonly source: SignedKeySource,
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
    const keys = await this.source.newPair();
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
    if (!state.current) throw new E2eError('INVALID_ARGUMENT', 'no signed keys to rotate before initKeys');
    if (state.pending) {
      return this.source.publicHalves(state.pending.signedPreKeyId, state.pending.lastResortKeyId);
    }
    const keys = await this.source.newPair();
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
    const signed = await this.sortIds('signed', named.signed, cutoff);
    const kyber = await this.sortIds('kyber', named.kyber, cutoff);

    let usedKyberRecords = 0;
    for (const record of await this.source.usedKyberRecords()) {
      if (kyber.kept.has(record.kyberId) && signed.kept.has(record.signedPreKeyId)) continue;
      await this.source.deleteUsedKyberRecord(record.key);
      usedKyberRecords++;
    }
    for (const id of signed.gone) await this.source.deleteKey('signed', id);
    for (const id of kyber.gone) await this.source.deleteKey('kyber', id);
    if (kept.length !== state.retired.length) await this.save({ ...state, retired: kept });
    return { signedPreKeyIds: signed.gone, lastResortKeyIds: kyber.gone, usedKyberRecords };
  }

  /**
   * Splits the stored ids of a kind: a key stays when a step names it or it was made after
   * `cutoff` (an unnamed new key may belong to a step under way). A key retired before the
   * cutoff was made before it too, so it goes.
   */
  private async sortIds(
    kind: SignedKeyKind,
    named: Set<number>,
    cutoff: number,
  ): Promise<{ kept: Set<number>; gone: number[] }> {
    const kept = new Set<number>();
    const gone: number[] = [];
    for (const id of await this.source.storedIds(kind)) {
      if (named.has(id) || (await this.source.madeAt(kind, id)) > cutoff) kept.add(id);
      else gone.push(id);
    }
    return { kept, gone: gone.sort((a, b) => a - b) };
  }

  private async load(): Promise<Lifecycle> {
    const stored = await this.kv.get(this.at.ns, this.at.key);
    if (stored) return JSON.parse(new TextDecoder().decode(stored)) as Lifecycle;
    return this.adopt();
  }

  private async save(state: Lifecycle): Promise<void> {
    await this.kv.put(this.at.ns, this.at.key, new TextEncoder().encode(JSON.stringify(state)));
  }

  /**
   * A store written before the lifecycle was kept: the newest pair (the last `initKeys`, the
   * one uploaded) is current, made when its records say; older keys are retired now.
   */
  private async adopt(): Promise<Lifecycle> {
    const signed = await this.source.storedIds('signed');
    const kyber = await this.source.storedIds('kyber');
    if (signed.length === 0 && kyber.length === 0) return { retired: [] };
    const now = this.now();
    const state: Lifecycle = { retired: [] };
    if (signed.length > 0 && kyber.length > 0) {
      const signedPreKeyId = Math.max(...signed);
      const lastResortKeyId = Math.max(...kyber);
      const made = Math.min(
        await this.source.madeAt('signed', signedPreKeyId),
        await this.source.madeAt('kyber', lastResortKeyId),
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
