/**
 * Safety numbers, in the style of Signal's numeric fingerprint extended to all of a user's
 * devices. Per user: the device identity keys sorted bytewise and concatenated (K), then
 * h = SHA-512(version(2 bytes) | K | userId) and 5199 more rounds of h = SHA-512(h | K);
 * the first 30 bytes become 6 groups of 5 digits. Both halves are ordered by userId, so the
 * two users see the same 60 digits and the same QR payload. Any device added or replaced
 * changes the number.
 */
import { compareBytes, concatBytes } from './bytes.js';
import { E2eError } from './errors.js';

export const SAFETY_NUMBER_VERSION = 0;
const ROUNDS = 5200;
const FINGERPRINT_BYTES = 30;

export interface SafetyNumberParty {
  userId: string;
  /** Serialized identity public keys of every device of the user, in any order. */
  identityKeys: Uint8Array[];
}

export interface SafetyNumber {
  /** 60 digits in 12 groups of 5, separated by single spaces. */
  digits: string;
  /** Version byte, then the two 30-byte fingerprints in userId order. */
  qr: Uint8Array;
}

export async function safetyNumber(
  local: SafetyNumberParty,
  remote: SafetyNumberParty,
): Promise<SafetyNumber> {
  const mine = await fingerprint(local);
  const theirs = await fingerprint(remote);
  // Equal user ids (comparing one's own devices) fall back to byte order, still symmetric.
  const order =
    local.userId === remote.userId ? compareBytes(mine, theirs) : local.userId < remote.userId ? -1 : 1;
  const [a, b] = order <= 0 ? [mine, theirs] : [theirs, mine];
  const groups = [...digitGroups(a), ...digitGroups(b)];
  return { digits: groups.join(' '), qr: concatBytes(new Uint8Array([SAFETY_NUMBER_VERSION]), a, b) };
}

async function fingerprint(party: SafetyNumberParty): Promise<Uint8Array> {
  if (party.identityKeys.length === 0) {
    throw new E2eError('INVALID_ARGUMENT', 'a safety number needs at least one identity key per user');
  }
  const unique = new Map(party.identityKeys.map((key) => [key.join(','), key]));
  const keys = concatBytes(...[...unique.values()].sort(compareBytes));
  const version = new Uint8Array([SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff]);
  let hash = await sha512(concatBytes(version, keys, new TextEncoder().encode(party.userId)));
  for (let round = 1; round < ROUNDS; round++) hash = await sha512(concatBytes(hash, keys));
  return hash.slice(0, FINGERPRINT_BYTES);
}

/** Six 5-byte big-endian chunks, each mod 100000, zero-padded. */
function digitGroups(fingerprint: Uint8Array): string[] {
  const groups: string[] = [];
  for (let offset = 0; offset < FINGERPRINT_BYTES; offset += 5) {
    let value = 0;
    // 40-bit values stay exact in a double (< 2^53).
    for (let i = 0; i < 5; i++) value = value * 256 + fingerprint[offset + i]!;
    groups.push(String(value % 100000).padStart(5, '0'));
  }
  return groups;
}

async function sha512(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', data));
}
