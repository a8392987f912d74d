/** The call event written into the direct chat when a call ends (an update message, docs/calls.md). */
import { type CallEndReason, ChatUpdateKind, encodeChatUpdate } from '@parley/protocol';
import type { UserId } from '../ports/types.js';

export function callEventUpdate(e: {
  callId: string;
  callerUserId: UserId;
  video: boolean;
  reason: CallEndReason;
  durationMs: number;
}): Uint8Array {
  return encodeChatUpdate({
    kind: ChatUpdateKind.CALL,
    userIds: [e.callerUserId],
    callId: e.callId,
    callReason: e.reason,
    callDurationMs: BigInt(e.durationMs),
    callVideo: e.video,
  });
}
