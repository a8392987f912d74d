/**
 * Group messages with sender keys, byte-compatible with libsignal-client's SenderKeyMessage
 * and SenderKeyDistributionMessage (version 3) and with the Node SDK's framing (one type
 * byte, 7, before a group ciphertext). Browser-safe: WebCrypto and @noble/curves only.
 * Calls are serialized per instance, like the Node protocol's.
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import type { KeyValueStore } from '../crypto/types.js';
import { asE2eError } from './as-e2e-error.js';
import { aesCbcDecrypt, aesCbcEncrypt, randomBytes, utf8 } from './primitives.js';
import { decodeProto, encodeProto, protoBytes, protoUint } from './proto.js';
import {
  addChain,
  deleteChains,
  loadChains,
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  messageKeys,
  Namespaces,
  type SenderChain,
  saveChains,
  step,
  uuidBytes,
  uuidString,
} from './sender-key-state.js';
import { generateKeyPair, sign, verify } from './xeddsa.js';

/** libsignal's CiphertextMessageType.SenderKey, the Node SDK's frame byte for group messages. */
export const SENDER_KEY_FRAME = 7;
const VERSION_BYTE = 0x33;
const SIGNATURE_LENGTH = 64;

export class BrowserSenderKeys {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly localDeviceId: string,
  ) {}

  /** This device's distribution message for the chat, creating its sender key on first use. */
  async senderKeyDistribution(chatId: string): Promise<Uint8Array> {
    return this.serial(async () => {
      const distributionId = (await this.distributionId(chatId)) ?? (await this.newDistributionId(chatId));
      let chains = await loadChains(this.kv, this.localDeviceId, distributionId);
      if (chains.length === 0) chains = await this.newOwnChain(distributionId);
      const own = chains[0]!;
      return concatBytes(
        Uint8Array.of(VERSION_BYTE),
        encodeProto([
          [1, uuidBytes(distributionId)],
          [2, own.chainId],
          [3, own.iteration],
          [4, own.chainKey],
          [5, own.signingPublic],
        ]),
      );
    });
  }

  /**
   * A new sender key under a new distribution id; the old one is deleted, so holders of it
   * (a member who left) cannot read later messages.
   */
  async rotateSenderKey(chatId: string): Promise<void> {
    return this.serial(async () => {
      const old = await this.distributionId(chatId);
      await this.newOwnChain(await this.newDistributionId(chatId));
      if (old) await deleteChains(this.kv, this.localDeviceId, old);
    });
  }

  /** Stores another device's sender key; BAD_MESSAGE when the message is malformed. */
  async processSenderKeyDistribution(senderDeviceId: string, skdm: Uint8Array): Promise<void> {
    return this.serial(() => asE2eError(() => this.processNow(senderDeviceId, skdm)));
  }

  private async processNow(senderDeviceId: string, skdm: Uint8Array): Promise<void> {
    if (!(skdm instanceof Uint8Array)) throw badMessage('a distribution message is bytes');
    if (skdm.length < 1 + 32 + 32 || skdm[0]! >> 4 !== 3)
      throw badMessage('not a version 3 distribution message');
    const fields = decodeProto(skdm.subarray(1));
    const distribution = protoBytes(fields, 1, 'distribution id');
    const chainKey = protoBytes(fields, 4, 'chain key');
    const signingPublic = protoBytes(fields, 5, 'signing key');
    if (distribution.length !== 16 || chainKey.length !== 32 || signingPublic.length !== 33) {
      throw badMessage('a distribution field has the wrong length');
    }
    const distributionId = uuidString(distribution);
    const chains = await loadChains(this.kv, senderDeviceId, distributionId);
    const chain: SenderChain = {
      chainId: protoUint(fields, 2, 'chain id'),
      iteration: protoUint(fields, 3, 'iteration'),
      chainKey,
      signingPublic,
      skipped: [],
    };
    await saveChains(this.kv, senderDeviceId, distributionId, addChain(chains, chain));
  }

  private async newOwnChain(distributionId: string): Promise<SenderChain[]> {
    const signing = generateKeyPair();
    const chain: SenderChain = {
      chainId: new Uint32Array(randomBytes(4).buffer)[0]! >>> 1,
      iteration: 0,
      chainKey: randomBytes(32),
      signingPublic: signing.publicKey,
      signingPrivate: signing.privateKey,
      skipped: [],
    };
    await saveChains(this.kv, this.localDeviceId, distributionId, [chain]);
    return [chain];
  }

  async groupEncrypt(chatId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      const distributionId = await this.distributionId(chatId);
      const chains = distributionId ? await loadChains(this.kv, this.localDeviceId, distributionId) : [];
      const own = chains[0];
      if (!distributionId || !own?.signingPrivate)
        throw new E2eError('NO_SENDER_KEY', 'no sender key for the chat yet');
      const { seed, next } = await step(own.chainKey);
      const { iv, key } = await messageKeys(seed);
      const body = concatBytes(
        Uint8Array.of(VERSION_BYTE),
        encodeProto([
          [1, uuidBytes(distributionId)],
          [2, own.chainId],
          [3, own.iteration],
          [4, await aesCbcEncrypt(key, iv, plaintext)],
        ]),
      );
      const message = concatBytes(body, sign(own.signingPrivate, body));
      chains[0] = { ...own, iteration: own.iteration + 1, chainKey: next };
      await saveChains(this.kv, this.localDeviceId, distributionId, chains);
      return concatBytes(Uint8Array.of(SENDER_KEY_FRAME), message);
    });
  }

  async groupDecrypt(senderDeviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.serial(() => asE2eError(() => this.groupDecryptNow(senderDeviceId, ciphertext)));
  }

  private async groupDecryptNow(senderDeviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext[0] !== SENDER_KEY_FRAME) throw badMessage('not a group message');
    const message = ciphertext.subarray(1);
    if (message.length < 1 + SIGNATURE_LENGTH || message[0]! >> 4 !== 3)
      throw badMessage('not a version 3 group message');
    const signed = message.subarray(0, message.length - SIGNATURE_LENGTH);
    const fields = decodeProto(signed.subarray(1));
    const distribution = protoBytes(fields, 1, 'distribution id');
    if (distribution.length !== 16) throw badMessage('distribution id is not 16 bytes');
    const distributionId = uuidString(distribution);
    const chainId = protoUint(fields, 2, 'chain id');
    const iteration = protoUint(fields, 3, 'iteration');
    const body = protoBytes(fields, 4, 'ciphertext');
    const chains = await loadChains(this.kv, senderDeviceId, distributionId);
    const index = chains.findIndex((c) => c.chainId === chainId);
    const chain = chains[index];
    if (!chain) throw new E2eError('NO_SENDER_KEY', `no sender key of ${senderDeviceId} for this message`);
    if (!verify(chain.signingPublic, signed, message.subarray(signed.length))) {
      throw new E2eError('DECRYPT_FAILED', `the group message of ${senderDeviceId} has a bad signature`);
    }
    const { seed, updated } = await this.seedFor(chain, iteration, senderDeviceId);
    const { iv, key } = await messageKeys(seed);
    let plaintext: Uint8Array;
    try {
      plaintext = await aesCbcDecrypt(key, iv, body);
    } catch (err) {
      throw new E2eError('DECRYPT_FAILED', `cannot decrypt a message from ${senderDeviceId}`, {
        cause: err,
      });
    }
    chains[index] = updated;
    await saveChains(this.kv, senderDeviceId, distributionId, chains);
    return plaintext;
  }

  /** The message-key seed of `iteration`, and the chain after using it (nothing saved yet). */
  private async seedFor(
    chain: SenderChain,
    iteration: number,
    sender: string,
  ): Promise<{ seed: Uint8Array; updated: SenderChain }> {
    if (iteration < chain.iteration) {
      const kept = chain.skipped.find((s) => s.iteration === iteration);
      if (!kept) throw new E2eError('DUPLICATE_MESSAGE', `message from ${sender} was already decrypted`);
      return { seed: kept.seed, updated: { ...chain, skipped: chain.skipped.filter((s) => s !== kept) } };
    }
    if (iteration - chain.iteration > MAX_FORWARD_JUMPS) {
      throw new E2eError('DECRYPT_FAILED', `a message from ${sender} is too far in the future`);
    }
    const skipped = [...chain.skipped];
    let chainKey = chain.chainKey;
    for (let i = chain.iteration; i < iteration; i++) {
      const { seed, next } = await step(chainKey);
      skipped.push({ iteration: i, seed });
      chainKey = next;
    }
    const { seed, next } = await step(chainKey);
    const updated = {
      ...chain,
      iteration: iteration + 1,
      chainKey: next,
      skipped: skipped.slice(-MAX_MESSAGE_KEYS),
    };
    return { seed, updated };
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async distributionId(chatId: string): Promise<string | undefined> {
    const stored = await this.kv.get(Namespaces.chatSenderKey, chatId);
    return stored ? new TextDecoder().decode(stored) : undefined;
  }

  private async newDistributionId(chatId: string): Promise<string> {
    const distributionId = globalThis.crypto.randomUUID();
    await this.kv.put(Namespaces.chatSenderKey, chatId, utf8(distributionId));
    return distributionId;
  }
}

function badMessage(what: string): E2eError {
  return new E2eError('BAD_MESSAGE', `ciphertext cannot be parsed: ${what}`);
}
