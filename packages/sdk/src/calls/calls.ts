/**
 * 1:1 calls over a SecureMessaging (docs/calls.md): the SDP and ICE candidates are encrypted
 * per device with the same Signal sessions as messages, the server only relays them. The host
 * gives an RTCPeerConnection factory; `Calls` drives it and tells the app `ringing`,
 * `connected` and `ended`. Pushes are handled one at a time, in the order they came.
 * Invariant: one call per device at a time; an offer that comes meanwhile is answered busy.
 */
import { ParleyError } from '@parley/protocol';
import type { SecureMessaging } from '../e2e/secure-messaging.js';
import { TypedEmitter } from '../emitter.js';
import { newClientMessageId } from '../ids.js';
import { decodeCallContent, encodeCallContent } from './content.js';
import type { IceCandidateLike, PeerConnectionFactory, PeerConnectionLike } from './peer.js';
import type { CallEndReasonName, CallPush, CallResultInfo, IceServerInfo } from './wire.js';

/** A call ringing on this device. */
export interface IncomingCall {
  callId: string;
  chatId: string;
  callerUserId: string;
  video: boolean;
  /** When it stops ringing (ms since the epoch, server clock). */
  ringUntil: number;
}

export interface CallEnded {
  callId: string;
  /** 'answered-elsewhere': another device of this user answered it (this one stops ringing). */
  reason: CallEndReasonName | 'answered-elsewhere';
  /** Who ended it ('' when the server did, or this device). */
  byUserId: string;
  /** How long it was connected (0: never answered). */
  durationMs: number;
}

export type CallsEvents = {
  /** A call rings on this device: `answerCall` or `declineCall` it. */
  ringing: [IncomingCall];
  /** The call was answered (by this device, or by the callee for an outgoing call). */
  connected: [{ callId: string; peerUserId: string; peerDeviceId: string }];
  ended: [CallEnded];
  /** A push that could not be used (a payload that did not decrypt, a failed relay). */
  error: [Error];
};

export interface CallsOptions {
  /** Makes the peer connection of each call (and adds its media tracks). */
  peerConnection: PeerConnectionFactory;
  /** 'relay' sends media through TURN only. */
  iceTransportPolicy?: 'all' | 'relay';
  /** The local clock (ms): TURN credentials are fetched again before they expire. */
  now?: () => number;
}

interface Call {
  callId: string;
  chatId: string;
  peerUserId: string;
  /** The other side's device: the caller's, or (outgoing) the one that answered. */
  peerDeviceId: string | undefined;
  video: boolean;
  direction: 'outgoing' | 'incoming';
  state: 'ringing' | 'connected';
  pc: PeerConnectionLike | undefined;
  /** An incoming call's offer, until it is answered. */
  offerSdp?: string;
  /** Local candidates found before there is a device to send them to. */
  queued: IceCandidateLike[];
  /**
   * An incoming call that came while this device's own call to the same chat rang (glare):
   * not shown; the server ends one of the two, and if ours lost this one is answered.
   */
  held?: boolean;
}

export class Calls extends TypedEmitter<CallsEvents> {
  private readonly calls = new Map<string, Call>();
  private tail: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private turn: { servers: IceServerInfo[]; until: number } | undefined;
  /** After our call lost to glare: the other side's call in this chat is answered by itself. */
  private glare: { chatId: string; video: boolean } | undefined;
  private readonly now: () => number;

  constructor(
    private readonly secure: SecureMessaging,
    private readonly options: CallsOptions,
  ) {
    super();
    this.now = options.now ?? (() => Date.now());
  }

  /** Starts listening for call pushes. */
  start(): void {
    this.unsubscribe ??= this.secure.client.on('call', (push) => {
      this.tail = this.tail.then(() => this.onPush(push)).catch((err) => this.emit('error', err as Error));
    });
  }

  /** Stops listening and closes every peer connection (the calls are not ended on the server). */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const c of this.calls.values()) c.pc?.close();
    this.calls.clear();
  }

  /** The calls of this device: at most one ringing or connected, plus calls ringing here. */
  list(): Array<{ callId: string; chatId: string; direction: 'outgoing' | 'incoming'; state: string }> {
    return [...this.calls.values()].map((c) => ({
      callId: c.callId,
      chatId: c.chatId,
      direction: c.direction,
      state: c.state,
    }));
  }

  /** TURN credentials as ICE servers, fetched again when less than a tenth of their life is left. */
  async iceServers(): Promise<IceServerInfo[]> {
    if (this.turn && this.turn.until > this.now()) return this.turn.servers;
    try {
      const c = await this.secure.client.turnCredentials();
      const servers = c.urls.length ? [{ urls: c.urls, username: c.username, credential: c.credential }] : [];
      this.turn = { servers, until: this.now() + c.ttlSeconds * 900 };
      return servers;
    } catch (err) {
      // A node without TURN: calls still work where the devices reach each other directly.
      if (err instanceof ParleyError && err.code === 'UNAVAILABLE') return [];
      throw err;
    }
  }

  /** Calls the other member of direct chat `chatId`; `ringing` → `connected` or `ended` follow. */
  async startCall(chatId: string, options: { video?: boolean } = {}): Promise<CallResultInfo> {
    if (this.busy()) throw new ParleyError('PERMISSION_DENIED', 'this device is in a call');
    const video = options.video ?? false;
    const chat = await this.secure.client.getChat(chatId);
    const me = this.secure.client.credentials.userId;
    const peerUserId = chat.members.map((m) => m.userId).find((u) => u !== me);
    if (!peerUserId)
      throw new ParleyError('INVALID_ARGUMENT', 'calls are between the two members of a direct chat');
    const callId = newClientMessageId();
    const call: Call = {
      callId,
      chatId,
      peerUserId,
      peerDeviceId: undefined,
      video,
      direction: 'outgoing',
      state: 'ringing',
      pc: undefined,
      queued: [],
    };
    this.calls.set(callId, call);
    try {
      call.pc = await this.peer(call);
      const offer = await call.pc.createOffer();
      await call.pc.setLocalDescription(offer);
      const content = encodeCallContent({ type: 'offer', callId, sdp: offer.sdp ?? '' });
      let result: CallResultInfo | undefined;
      for (let attempt = 0; !result; attempt++) {
        const payloads = await this.secure.sealForUser(peerUserId, content);
        try {
          result = await this.secure.client.callOffer(callId, chatId, video, payloads);
        } catch (err) {
          // A device added or removed meanwhile: seal for the current list again.
          if (!(err instanceof ParleyError && err.code === 'DEVICE_MISMATCH') || attempt >= 2) throw err;
        }
      }
      if (result.state === 'ended')
        this.ended(call, { reason: result.reason ?? 'hangup', byUserId: '', durationMs: 0 });
      return result;
    } catch (err) {
      this.drop(call);
      throw err;
    }
  }

  /** Answers a call ringing on this device. */
  async answerCall(callId: string): Promise<CallResultInfo> {
    const call = this.calls.get(callId);
    if (call?.direction !== 'incoming' || call.state !== 'ringing' || call.offerSdp === undefined)
      throw new ParleyError('NOT_FOUND', 'no such call ringing on this device');
    if (this.busy()) throw new ParleyError('PERMISSION_DENIED', 'this device is in a call');
    try {
      call.pc = await this.peer(call);
      await call.pc.setRemoteDescription({ type: 'offer', sdp: call.offerSdp });
      const answer = await call.pc.createAnswer();
      await call.pc.setLocalDescription(answer);
      const payload = await this.secure.sealForDevice(
        call.peerUserId,
        call.peerDeviceId!,
        encodeCallContent({ type: 'answer', callId, sdp: answer.sdp ?? '' }),
      );
      const result = await this.secure.client.callAnswer(callId, payload);
      call.state = 'connected';
      call.offerSdp = undefined;
      this.emit('connected', { callId, peerUserId: call.peerUserId, peerDeviceId: call.peerDeviceId! });
      await this.flush(call);
      return result;
    } catch (err) {
      this.drop(call);
      throw err;
    }
  }

  /** Declines a call ringing on this device (it stops ringing everywhere). */
  async declineCall(callId: string): Promise<void> {
    await this.endHere(callId, 'declined');
  }

  /** Ends a call: hangs up a connected one, cancels an outgoing one that rings. */
  async hangup(callId: string): Promise<void> {
    await this.endHere(callId, 'hangup');
  }

  private async endHere(callId: string, reason: 'hangup' | 'declined'): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) throw new ParleyError('NOT_FOUND', 'no such call on this device');
    this.drop(call);
    let result: CallResultInfo | undefined;
    try {
      result = await this.secure.client.callEnd(callId, reason);
    } finally {
      this.emit('ended', { callId, reason: result?.reason ?? reason, byUserId: '', durationMs: 0 });
    }
  }

  private async onPush(p: CallPush): Promise<void> {
    if (p.kind === 'offered') return this.offered(p);
    const call = this.calls.get(p.callId);
    if (!call) return;
    if (p.kind === 'answered') {
      if (p.elsewhere)
        return this.ended(call, { reason: 'answered-elsewhere', byUserId: p.userId, durationMs: 0 });
      if (call.direction !== 'outgoing' || !call.pc) return;
      const c = decodeCallContent(await this.secure.open(p.deviceId, p.payload), 'answer', call.callId);
      await call.pc.setRemoteDescription({ type: 'answer', sdp: c.sdp });
      call.peerDeviceId = p.deviceId;
      call.state = 'connected';
      this.emit('connected', { callId: call.callId, peerUserId: p.userId, peerDeviceId: p.deviceId });
      await this.flush(call);
    } else if (p.kind === 'signal') {
      if (p.fromDeviceId !== call.peerDeviceId && call.direction === 'incoming') return;
      const c = decodeCallContent(
        await this.secure.open(p.fromDeviceId, p.payload),
        'candidate',
        call.callId,
      );
      await call.pc?.addIceCandidate(c.candidate);
    } else {
      this.ended(call, p);
    }
  }

  private async offered(p: Extract<CallPush, { kind: 'offered' }>): Promise<void> {
    if (this.calls.has(p.callId)) return; // offered again on reconnect
    const c = decodeCallContent(await this.secure.open(p.callerDeviceId, p.payload), 'offer', p.callId);
    const held = [...this.calls.values()].some(
      (x) => x.direction === 'outgoing' && x.state === 'ringing' && x.chatId === p.chatId,
    );
    if (!held && this.busy()) {
      await this.secure.client.callEnd(p.callId, 'busy');
      return;
    }
    this.calls.set(p.callId, {
      callId: p.callId,
      chatId: p.chatId,
      peerUserId: p.callerUserId,
      peerDeviceId: p.callerDeviceId,
      video: p.video,
      direction: 'incoming',
      state: 'ringing',
      pc: undefined,
      offerSdp: c.sdp,
      queued: [],
      held,
    });
    if (held) return;
    this.emit('ringing', {
      callId: p.callId,
      chatId: p.chatId,
      callerUserId: p.callerUserId,
      video: p.video,
      ringUntil: p.ringUntil,
    });
    // Both called at once and ours lost: this is the call the user wanted, so it is answered.
    if (this.glare?.chatId === p.chatId) {
      this.glare = undefined;
      await this.answerCall(p.callId);
    }
  }

  private ended(call: Call, e: Omit<CallEnded, 'callId'>): void {
    this.drop(call);
    if (e.reason === 'glare' && call.direction === 'outgoing') {
      const theirs = [...this.calls.values()].find(
        (c) => c.chatId === call.chatId && c.direction === 'incoming',
      );
      if (theirs) void this.answerCall(theirs.callId).catch((err) => this.emit('error', err as Error));
      else this.glare = { chatId: call.chatId, video: call.video };
    }
    this.emit('ended', { callId: call.callId, ...e });
  }

  private drop(call: Call): void {
    call.pc?.close();
    this.calls.delete(call.callId);
  }

  /** True while this device has an outgoing call or a connected one. */
  private busy(): boolean {
    return [...this.calls.values()].some((c) => c.direction === 'outgoing' || c.state === 'connected');
  }

  private async peer(call: Call): Promise<PeerConnectionLike> {
    const pc = await this.options.peerConnection(
      {
        iceServers: await this.iceServers(),
        ...(this.options.iceTransportPolicy && { iceTransportPolicy: this.options.iceTransportPolicy }),
      },
      { callId: call.callId, chatId: call.chatId, video: call.video, direction: call.direction },
    );
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      call.queued.push(e.candidate);
      if (call.state === 'connected') void this.flush(call).catch((err) => this.emit('error', err as Error));
    };
    return pc;
  }

  /** Sends the local candidates found so far to the other side's device. */
  private async flush(call: Call): Promise<void> {
    const target = call.peerDeviceId;
    if (!target || !this.calls.has(call.callId)) return;
    while (call.queued.length) {
      const candidate = call.queued.shift()!;
      const payload = await this.secure.sealForDevice(
        call.peerUserId,
        target,
        encodeCallContent({ type: 'candidate', callId: call.callId, candidate: toPlain(candidate) }),
      );
      try {
        await this.secure.client.callSignal(call.callId, target, payload);
      } catch (err) {
        // The call ended meanwhile: its callEnded push says how.
        if (err instanceof ParleyError && err.code === 'NOT_FOUND') return;
        throw err;
      }
    }
  }
}

/** An RTCIceCandidate as plain JSON (a browser's object has getters and a toJSON). */
function toPlain(c: IceCandidateLike): IceCandidateLike {
  return {
    candidate: c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    usernameFragment: c.usernameFragment ?? null,
  };
}
