/**
 * Calls in the web client: call buttons for the open direct chat, the incoming-call banner
 * (answer, decline) and the call screen (mute, camera on/off, hang up). It owns the SDK's
 * Calls for the device; the rest of the app only mounts it.
 */
import { Calls, type ChatInfo, ChatKind, type IncomingCall } from '@parley/sdk/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { WebDevice } from '../device.js';
import { describeError } from '../errors.js';
import { type CallMedia, makePeerConnection, relaySetting } from './media.js';
import './calls.css';

type Screen =
  | { kind: 'idle' }
  | { kind: 'incoming'; call: IncomingCall }
  | { kind: 'outgoing' | 'connected'; callId: string; video: boolean };

const ENDED: Record<string, string> = {
  hangup: 'Call ended',
  declined: 'Call declined',
  busy: 'Busy',
  unanswered: 'No answer',
  cancelled: 'Missed call',
  glare: 'Call ended',
  'connection-lost': 'Call lost',
  'answered-elsewhere': 'Answered on another device',
};

export function CallLayer(props: { device: WebDevice; chat: ChatInfo | undefined }) {
  const { device, chat } = props;
  const [screen, setScreen] = useState<Screen>({ kind: 'idle' });
  const [note, setNote] = useState('');
  const [relay, setRelay] = useState(relaySetting.get);
  const [muted, setMuted] = useState(false);
  const [cameraOff, setCameraOff] = useState(false);
  const [calls, setCalls] = useState<Calls | undefined>();
  const media = useRef<CallMedia | undefined>(undefined);
  const remoteVideo = useRef<HTMLVideoElement>(null);
  const localVideo = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const c = new Calls(device.secure, {
      peerConnection: (config, call) =>
        makePeerConnection(config, call, (m) => {
          media.current = m;
          if (remoteVideo.current) remoteVideo.current.srcObject = m.remote;
          if (localVideo.current) localVideo.current.srcObject = m.local;
        }),
      ...(relaySetting.get() && { iceTransportPolicy: 'relay' as const }),
    });
    const offs = [
      c.on('ringing', (call) => setScreen({ kind: 'incoming', call })),
      c.on('connected', ({ callId }) =>
        setScreen((s) => ({
          kind: 'connected',
          callId,
          video: s.kind === 'incoming' ? s.call.video : s.kind !== 'idle' && s.video,
        })),
      ),
      c.on('ended', (e) => {
        media.current = undefined;
        setMuted(false);
        setCameraOff(false);
        setNote(ENDED[e.reason] ?? 'Call ended');
        setScreen({ kind: 'idle' });
      }),
      c.on('error', (err) => setNote(describeError(err))),
    ];
    c.start();
    setCalls(c);
    return () => {
      for (const off of offs) off();
      c.close();
    };
  }, [device, relay]);

  // The streams come before the call screen is drawn: attach them once it is.
  useEffect(() => {
    if (remoteVideo.current && media.current) remoteVideo.current.srcObject = media.current.remote;
    if (localVideo.current && media.current) localVideo.current.srcObject = media.current.local;
  });

  if (!calls) return null;
  const run = (p: Promise<unknown>) => void p.catch((err) => setNote(describeError(err)));
  const setTracks = (kind: 'audio' | 'video', enabled: boolean) => {
    for (const t of media.current?.local.getTracks() ?? []) if (t.kind === kind) t.enabled = enabled;
  };

  if (screen.kind === 'incoming') {
    const { call } = screen;
    return (
      <section class="call-banner" role="alertdialog" aria-label="Incoming call">
        <p>
          Incoming {call.video ? 'video' : 'voice'} call from {call.callerUserId}
        </p>
        <button type="button" onClick={() => run(calls.answerCall(call.callId))}>
          Answer
        </button>
        <button type="button" class="danger" onClick={() => run(calls.declineCall(call.callId))}>
          Decline
        </button>
      </section>
    );
  }
  if (screen.kind === 'outgoing' || screen.kind === 'connected') {
    return (
      <section class="call-screen" aria-label="Call">
        <p role="status">{screen.kind === 'connected' ? 'Connected' : 'Ringing…'}</p>
        {/* biome-ignore lint/a11y/useMediaCaption: a live call's stream has no caption track to offer */}
        <video ref={remoteVideo} class="remote" autoplay playsInline aria-label="Their video" />
        <video ref={localVideo} class="local" autoplay playsInline muted aria-label="Your video" />
        <div class="call-controls">
          <button
            type="button"
            aria-pressed={muted}
            onClick={() => {
              setTracks('audio', muted);
              setMuted(!muted);
            }}
          >
            {muted ? 'Unmute' : 'Mute'}
          </button>
          {screen.video && (
            <button
              type="button"
              aria-pressed={cameraOff}
              onClick={() => {
                setTracks('video', cameraOff);
                setCameraOff(!cameraOff);
              }}
            >
              {cameraOff ? 'Camera on' : 'Camera off'}
            </button>
          )}
          <button type="button" class="danger" onClick={() => run(calls.hangup(screen.callId))}>
            Hang up
          </button>
        </div>
      </section>
    );
  }
  const start = (video: boolean) => {
    if (!chat) return;
    setNote('');
    run(
      calls.startCall(chat.id, { video }).then((r) => {
        if (r.state === 'ringing') setScreen({ kind: 'outgoing', callId: r.callId, video });
      }),
    );
  };
  return (
    <aside class="call-bar" aria-label="Calls">
      {chat?.kind === ChatKind.DIRECT && (
        <>
          <button type="button" onClick={() => start(false)}>
            Voice call
          </button>
          <button type="button" onClick={() => start(true)}>
            Video call
          </button>
        </>
      )}
      <label>
        <input
          type="checkbox"
          checked={relay}
          onChange={(e) => {
            relaySetting.set(e.currentTarget.checked);
            setRelay(e.currentTarget.checked);
          }}
        />{' '}
        Relay calls (hide my address)
      </label>
      <p role="status" class="call-note">
        {note}
      </p>
    </aside>
  );
}
