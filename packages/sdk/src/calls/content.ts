/**
 * What travels inside a call ciphertext: the SDP or an ICE candidate, naming its call, so a
 * ciphertext the server moved to another call (or replayed) is refused on opening.
 */
import { ParleyError } from '@parley/protocol';
import type { IceCandidateLike } from './peer.js';

export type CallContent =
  | { type: 'offer'; callId: string; sdp: string }
  | { type: 'answer'; callId: string; sdp: string }
  | { type: 'candidate'; callId: string; candidate: IceCandidateLike };

const utf8 = new TextEncoder();
const unutf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeCallContent(c: CallContent): Uint8Array {
  return utf8.encode(JSON.stringify({ v: 1, ...c }));
}

/** The content, checked to be of `type` and to name `callId`; INVALID_ARGUMENT otherwise. */
export function decodeCallContent<T extends CallContent['type']>(
  bytes: Uint8Array,
  type: T,
  callId: string,
): Extract<CallContent, { type: T }> {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(unutf8.decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'a call payload is not call content');
  }
  if (c.v !== 1 || c.type !== type || c.callId !== callId)
    throw new ParleyError('INVALID_ARGUMENT', `a call payload is not the ${type} of this call`);
  if (type === 'candidate') {
    const cand = c.candidate as IceCandidateLike | undefined;
    if (!cand || typeof cand.candidate !== 'string')
      throw new ParleyError('INVALID_ARGUMENT', 'a call candidate has no candidate');
  } else if (typeof c.sdp !== 'string') {
    throw new ParleyError('INVALID_ARGUMENT', `a call ${type} has no sdp`);
  }
  return c as unknown as Extract<CallContent, { type: T }>;
}
