/**
 * The call frames as the SDK's client speaks them (protocol.md §7.13): requests, the pushes
 * turned into one `call` event, and the reasons a call ends, as strings.
 */
import { CallEndReason, CallState, type Frame } from '@parley/protocol';

export type CallEndReasonName =
  | 'hangup'
  | 'declined'
  | 'busy'
  | 'unanswered'
  | 'cancelled'
  | 'glare'
  | 'connection-lost';

const REASONS: Record<number, CallEndReasonName> = {
  [CallEndReason.HANGUP]: 'hangup',
  [CallEndReason.DECLINED]: 'declined',
  [CallEndReason.BUSY]: 'busy',
  [CallEndReason.UNANSWERED]: 'unanswered',
  [CallEndReason.CANCELLED]: 'cancelled',
  [CallEndReason.GLARE]: 'glare',
  [CallEndReason.CONNECTION_LOST]: 'connection-lost',
};

export function reasonName(r: CallEndReason): CallEndReasonName {
  return REASONS[r] ?? 'hangup';
}

/** What the server answered to an offer, answer or end. */
export interface CallResultInfo {
  callId: string;
  state: 'ringing' | 'connected' | 'ended';
  /** Set when `state` is 'ended'. */
  reason?: CallEndReasonName;
}

export function toCallResult(v: { callId: string; state: CallState; reason: CallEndReason }): CallResultInfo {
  const state =
    v.state === CallState.CONNECTED ? 'connected' : v.state === CallState.ENDED ? 'ended' : 'ringing';
  return { callId: v.callId, state, ...(state === 'ended' && { reason: reasonName(v.reason) }) };
}

/** A call push from the server (the `call` event of ParleyClient); payloads are still encrypted. */
export type CallPush =
  | {
      kind: 'offered';
      callId: string;
      chatId: string;
      callerUserId: string;
      callerDeviceId: string;
      video: boolean;
      payload: Uint8Array;
      ringUntil: number;
    }
  | {
      kind: 'answered';
      callId: string;
      userId: string;
      deviceId: string;
      payload: Uint8Array;
      elsewhere: boolean;
    }
  | { kind: 'signal'; callId: string; fromUserId: string; fromDeviceId: string; payload: Uint8Array }
  | { kind: 'ended'; callId: string; reason: CallEndReasonName; byUserId: string; durationMs: number };

/** The call push in a frame body, or undefined when it is none. */
export function toCallPush(body: Frame['body']): CallPush | undefined {
  switch (body.case) {
    case 'callOffered': {
      const v = body.value;
      return {
        kind: 'offered',
        callId: v.callId,
        chatId: v.chatId,
        callerUserId: v.callerUserId,
        callerDeviceId: v.callerDeviceId,
        video: v.video,
        payload: v.payload,
        ringUntil: Number(v.ringUntil),
      };
    }
    case 'callAnswered': {
      const v = body.value;
      return {
        kind: 'answered',
        callId: v.callId,
        userId: v.userId,
        deviceId: v.deviceId,
        payload: v.payload,
        elsewhere: v.elsewhere,
      };
    }
    case 'callSignalEvent': {
      const v = body.value;
      return {
        kind: 'signal',
        callId: v.callId,
        fromUserId: v.fromUserId,
        fromDeviceId: v.fromDeviceId,
        payload: v.payload,
      };
    }
    case 'callEnded': {
      const v = body.value;
      return {
        kind: 'ended',
        callId: v.callId,
        reason: reasonName(v.reason),
        byUserId: v.byUserId,
        durationMs: Number(v.durationMs),
      };
    }
    default:
      return undefined;
  }
}

/** TURN credentials as an RTCIceServer. */
export interface IceServerInfo {
  urls: string[];
  username: string;
  credential: string;
}
