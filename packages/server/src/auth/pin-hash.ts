/**
 * Registration-lock PINs at rest: Argon2id (@node-rs/argon2, run on libuv's thread pool so
 * the event loop never waits for it), stored as PHC strings that carry their parameters and
 * salt, so the parameters can be raised later without breaking stored PINs. A PIN is never
 * logged and never leaves this module except as its hash.
 */
import { hash, type Options, verify } from '@node-rs/argon2';

/**
 * OWASP's first Argon2id choice: 19 MiB, 2 passes, 1 lane (about 50-150 ms on a server core).
 * Only a holder of the number's SMS code (verify) or the primary device (setting the PIN)
 * makes the server hash, and both are rate limited.
 */
export const PIN_HASH_OPTIONS: Options = {
  // Algorithm.Argon2id (a const enum, which isolatedModules cannot read from a .d.ts).
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
};

export function hashPin(pin: string): Promise<string> {
  return hash(pin, PIN_HASH_OPTIONS);
}

/** Whether `pin` is the PIN hashed as `pinHash` (constant-time inside the library). */
export function pinMatches(pinHash: string, pin: string): Promise<boolean> {
  return verify(pinHash, pin);
}
