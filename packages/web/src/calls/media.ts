/**
 * The browser's side of a call: an RTCPeerConnection with this device's microphone (and camera
 * for a video call) added, and the other side's stream handed to the screen. Calls (the SDK)
 * drives the connection; this only makes it.
 */
import type { CallDescription, PeerConnectionConfig, PeerConnectionLike } from '@parley/sdk/browser';

export interface CallMedia {
  pc: RTCPeerConnection;
  local: MediaStream;
  remote: MediaStream;
}

/** Makes the peer connection of a call; `onMedia` gets its streams once the tracks are added. */
export async function makePeerConnection(
  config: PeerConnectionConfig,
  call: CallDescription,
  onMedia: (media: CallMedia) => void,
): Promise<PeerConnectionLike> {
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: call.video });
  const pc = new RTCPeerConnection({
    iceServers: config.iceServers,
    ...(config.iceTransportPolicy && { iceTransportPolicy: config.iceTransportPolicy }),
  });
  for (const track of local.getTracks()) pc.addTrack(track, local);
  const remote = new MediaStream();
  pc.addEventListener('track', (e) => remote.addTrack(e.track));
  // The microphone and camera go off with the call.
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'closed') for (const t of local.getTracks()) t.stop();
  });
  const close = pc.close.bind(pc);
  pc.close = () => {
    close();
    for (const t of local.getTracks()) t.stop();
  };
  onMedia({ pc, local, remote });
  // The browser's connection has the shape Calls uses; its event types are only wider.
  return pc as unknown as PeerConnectionLike;
}

const RELAY_KEY = 'parley-calls-relay';

/** The "relay calls" setting: media only through the TURN server, so peers never see this device's address. */
export const relaySetting = {
  get: (): boolean => localStorage.getItem(RELAY_KEY) === '1',
  set: (on: boolean): void => localStorage.setItem(RELAY_KEY, on ? '1' : '0'),
};
