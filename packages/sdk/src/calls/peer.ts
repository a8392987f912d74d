/**
 * The part of RTCPeerConnection that `Calls` uses. The host app gives a factory: in a page,
 * one that makes an RTCPeerConnection and adds its microphone (and camera) tracks; in tests,
 * anything with this shape. The SDK never touches media itself.
 */
import type { IceServerInfo } from './wire.js';

export interface SessionDescriptionLike {
  type: string;
  sdp?: string;
}

export interface IceCandidateLike {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface PeerConnectionLike {
  createOffer(): Promise<SessionDescriptionLike>;
  createAnswer(): Promise<SessionDescriptionLike>;
  setLocalDescription(description: SessionDescriptionLike): Promise<void>;
  setRemoteDescription(description: SessionDescriptionLike): Promise<void>;
  addIceCandidate(candidate: IceCandidateLike): Promise<void>;
  close(): void;
  /** Set by `Calls`: each local candidate goes to the other side, encrypted. */
  onicecandidate: ((event: { candidate: IceCandidateLike | null }) => void) | null;
}

export interface PeerConnectionConfig {
  iceServers: IceServerInfo[];
  /** 'relay' forces media through TURN (for tests, or to hide the device's addresses). */
  iceTransportPolicy?: 'all' | 'relay';
}

/** What the factory is told about the call it makes a connection for. */
export interface CallDescription {
  callId: string;
  chatId: string;
  video: boolean;
  direction: 'outgoing' | 'incoming';
}

export type PeerConnectionFactory = (
  config: PeerConnectionConfig,
  call: CallDescription,
) => PeerConnectionLike | Promise<PeerConnectionLike>;
