/** Key uploads for the server's key-directory tests. */
import { IdentityKeyPair, KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client';

/** Real keys, generated and signed the way a client does it. */
export function makeKeys(oneTime: number, firstId = 1) {
  const identity = IdentityKeyPair.generate();
  const spk = PrivateKey.generate().getPublicKey().serialize();
  const kyber = KEMKeyPair.generate().getPublicKey().serialize();
  const upload = {
    identityKey: identity.publicKey.serialize(),
    registrationId: 1 + Math.floor(Math.random() * 16000),
    signedPreKey: { id: 1, publicKey: spk, signature: identity.privateKey.sign(spk) },
    lastResortKey: { id: 2, publicKey: kyber, signature: identity.privateKey.sign(kyber) },
    oneTimePreKeys: Array.from({ length: oneTime }, (_, i) => ({
      id: firstId + i,
      publicKey: PrivateKey.generate().getPublicKey().serialize(),
    })),
  };
  return { identity, upload };
}
