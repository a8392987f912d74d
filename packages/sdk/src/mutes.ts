/**
 * Chat mutes and do-not-disturb on the client side: the wire form of a mute time and the
 * changes the server pushes when another device of the user makes one. Times are unix ms;
 * 0 is off and MUTE_FOREVER (2^53-1) is until turned off. The server stores a time already
 * past as 0, so `isMuted` needs the local clock only to notice a mute that has run out.
 */
import { MUTE_FOREVER, ParleyError } from '@parley/protocol';

export { MUTE_FOREVER };

/** A mute's end: unix ms, or 'forever'. */
export type MuteUntil = number | 'forever';

/** A chat's mute changed (`mutedUntil` 0: unmuted). */
export interface ChatMuteInfo {
  chatId: string;
  mutedUntil: number;
}

/** True while a mute or do-not-disturb that ends at `until` is in force at `now`. */
export function isMuted(until: number, now: number): boolean {
  return until > now;
}

/** The wire's uint64 for a mute end; INVALID_ARGUMENT for what the server would refuse. */
export function muteUntilToWire(until: MuteUntil): bigint {
  if (until === 'forever') return BigInt(MUTE_FOREVER);
  if (!Number.isSafeInteger(until) || until < 0)
    throw new ParleyError('INVALID_ARGUMENT', "until must be unix ms (0 = off) or 'forever'");
  return BigInt(until);
}
