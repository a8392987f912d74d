/**
 * 1:1 call signaling (docs/calls.md). Calls live in this node's memory only: the encrypted
 * offers until the call stops ringing (at most callPendingMs), the state until it ends. Each
 * user takes part in at most one call at a time, so what is kept is bounded by the users.
 * The server relays ciphertext it cannot read; it writes one thing, the call event, into the
 * direct chat when a call ends.
 */
import { CallEndReason, type CallOffered, CallState, type FrameInit, ParleyError } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Directory } from '../chat/directory.js';
import type { DeviceMismatchDetails } from '../chat/service.js';
import type { Config } from '../config/schema.js';
import type { Hub } from '../delivery/hub.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { BusMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { ChatId, Device, DeviceId, UserId } from '../ports/types.js';
import type { RingingCall } from '../push/call-push.js';
import { AcceptedChats } from './accepted.js';
import type { CallCluster, CallOp, CallSummary } from './cluster.js';
import { callEventUpdate } from './events.js';

export interface CallDeps {
  directory: Pick<Directory, 'members' | 'devicesOf'>;
  hub: Pick<Hub, 'pushToDevices' | 'fanOut' | 'get'>;
  blocks: BlockCheck;
  limiters: Limiters;
  store: Pick<Store, 'messagesHistory' | 'chatMutate'>;
  clock: Clock;
  config: Pick<Config, 'maxPayloadBytes' | 'callRingMs' | 'callPendingMs'>;
  log: Logger;
  /** Ring pushes to the callee's devices connected nowhere (push/call-push.ts); never rejects. */
  ring?: (call: RingingCall) => Promise<void>;
}

export interface CallOffer {
  callId: string;
  chatId: ChatId;
  video: boolean;
  payloads: ReadonlyMap<DeviceId, Uint8Array>;
}

export interface CallOutcome {
  callId: string;
  state: CallState;
  reason: CallEndReason;
}

interface Call {
  id: string;
  chatId: ChatId;
  callerUserId: UserId;
  callerDeviceId: DeviceId;
  calleeUserId: UserId;
  video: boolean;
  startedAt: number;
  /** The callee's devices this call rang (or rings when they connect). */
  ringDevices: DeviceId[];
  /** Encrypted offers per callee device; dropped when the call stops ringing or callPendingMs passes. */
  offers: Map<DeviceId, Uint8Array> | undefined;
  /** Not rung (callee never wrote in the chat, or blocked the caller): ends as unanswered. */
  silent: boolean;
  /** False when the callee blocked the caller: no call event either. */
  writeEvent: boolean;
  answeredBy?: DeviceId;
  connectedAt?: number;
  /** Since when each active device of a connected call has been away. */
  away: Map<DeviceId, number>;
}

type Push = FrameInit['body'];
/** The body of a `callOffered` push, as the server builds it. */
type WireOffer = Omit<CallOffered, '$typeName' | '$unknown'>;

const CALL_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Largest call payload: it may cross the bus as base64 (ports/bus.ts BUS_MESSAGE_MAX_BYTES). */
export const CALL_PAYLOAD_MAX_BYTES = 32 * 1024;

export class CallService {
  private readonly calls = new Map<string, Call>();
  /** The one call each user takes part in (as caller or as a rung callee). */
  private readonly byUser = new Map<UserId, Call>();
  private readonly accepted: AcceptedChats;
  private timer: NodeJS.Timeout | undefined;
  private announcedAt = 0;
  /** With several nodes: the calls homed elsewhere, and the way to them (cluster.ts). */
  cluster: CallCluster | undefined;

  constructor(private readonly d: CallDeps) {
    this.accepted = new AcceptedChats(d.store);
  }

  /** Checks due timers every `everyMs` (ring timeouts, offers to drop, devices away). */
  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err) => this.d.log.warn({ err }, 'call sweep failed'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Calls held (tests and metrics). */
  get size(): number {
    return this.calls.size;
  }

  async offer(device: Device, o: CallOffer): Promise<CallOutcome> {
    if (!CALL_ID.test(o.callId))
      throw new ParleyError('INVALID_ARGUMENT', 'callId must be 8-64 characters of A-Z a-z 0-9 _ -');
    const same = this.calls.get(o.callId);
    if (same) {
      // A repeated offer (a resend after a lost answer) gets the call's state.
      if (same.callerDeviceId === device.id && same.chatId === o.chatId) return outcome(same);
      throw new ParleyError('INVALID_ARGUMENT', 'that callId is in use');
    }
    await this.d.limiters.take('callOffer', device.userId);
    const members = await this.d.directory.members(o.chatId);
    if (!members) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
    if (!members.has(device.userId))
      throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
    if (members.kind !== 'direct')
      throw new ParleyError('INVALID_ARGUMENT', 'calls are between the two members of a direct chat');
    const callee = members.users.find((u) => u !== device.userId);
    if (!callee) throw new ParleyError('INVALID_ARGUMENT', 'this chat has no other member');
    if (await this.d.blocks.isBlocked(device.userId, callee))
      throw new ParleyError('USER_BLOCKED', 'you blocked this user; unblock them to call');
    await this.checkPayloads(callee, o.payloads);

    const blockedByCallee = await this.d.blocks.isBlocked(callee, device.userId);
    const silent =
      blockedByCallee || !(await this.accepted.accepted(o.chatId, callee, device.id).catch(() => false));
    // Checked again after the awaits above: another offer may have come meanwhile.
    if (this.calls.has(o.callId)) throw new ParleyError('INVALID_ARGUMENT', 'that callId is in use');
    const mine = this.slotOf(device.userId);
    const theirs = silent ? undefined : this.slotOf(callee);
    const glare = [mine, theirs].find(
      (c) => c && !c.connected && c.callerUserId === callee && c.calleeUserId === device.userId,
    );
    if (glare) {
      // Both called each other: the lower call id wins, on every node and in any order (a call
      // that does not ring on the callee's devices cannot be answered, so it loses).
      if (!glare.silent && glare.id < o.callId)
        return { callId: o.callId, state: CallState.ENDED, reason: CallEndReason.GLARE };
      const local = this.calls.get(glare.id);
      if (local) this.finish(local, CallEndReason.GLARE, undefined);
      else this.cluster?.glare(glare.home, glare.id);
    } else if (mine) {
      throw new ParleyError('PERMISSION_DENIED', 'you are in another call; end it first');
    }
    const now = this.d.clock.now();
    const call: Call = {
      id: o.callId,
      chatId: o.chatId,
      callerUserId: device.userId,
      callerDeviceId: device.id,
      calleeUserId: callee,
      video: o.video,
      startedAt: now,
      ringDevices: silent ? [] : [...o.payloads.keys()],
      offers: silent ? undefined : new Map(o.payloads),
      silent,
      writeEvent: !blockedByCallee,
      away: new Map(),
    };
    if (theirs && theirs.id !== glare?.id) {
      // The callee is in another call.
      this.writeEvent(call, CallEndReason.BUSY, 0);
      return { callId: o.callId, state: CallState.ENDED, reason: CallEndReason.BUSY };
    }
    this.calls.set(call.id, call);
    this.byUser.set(device.userId, call);
    if (!silent) {
      this.byUser.set(callee, call);
      for (const [deviceId, payload] of o.payloads) this.push([deviceId], this.offered(call, payload));
      void this.d.ring?.({
        callId: call.id,
        chatId: call.chatId,
        calleeUserId: callee,
        deviceIds: call.ringDevices,
      });
    }
    this.announce(call);
    this.d.log.info({ callId: call.id, silent }, 'call ringing');
    return outcome(call);
  }

  async answer(device: Device, callId: string, payload: Uint8Array): Promise<CallOutcome> {
    await this.d.limiters.take('callSignal', device.id);
    this.checkPayload(payload);
    const home = this.homeOf(callId);
    if (home)
      return (await this.cluster!.forward(home, device, callId, { op: 'answer', payload })) as CallOutcome;
    return this.answerHere(device, callId, payload);
  }

  private answerHere(device: Device, callId: string, payload: Uint8Array): CallOutcome {
    const call = this.callOf(device, callId);
    if (device.userId !== call.calleeUserId || !call.ringDevices.includes(device.id))
      throw new ParleyError('PERMISSION_DENIED', 'only a device the call rang can answer it');
    if (call.connectedAt !== undefined) {
      if (call.answeredBy === device.id) return outcome(call);
      throw new ParleyError('PERMISSION_DENIED', 'the call was answered on another device');
    }
    call.answeredBy = device.id;
    call.connectedAt = this.d.clock.now();
    call.offers = undefined;
    const value = { callId, userId: device.userId, deviceId: device.id };
    this.push([call.callerDeviceId], { case: 'callAnswered', value: { ...value, payload } });
    const others = call.ringDevices.filter((x) => x !== device.id);
    this.push(others, { case: 'callAnswered', value: { ...value, elsewhere: true } });
    this.announce(call);
    return outcome(call);
  }

  async signal(device: Device, callId: string, target: DeviceId, payload: Uint8Array): Promise<void> {
    await this.d.limiters.take('callSignal', device.id);
    this.checkPayload(payload);
    const home = this.homeOf(callId);
    if (home) await this.cluster!.forward(home, device, callId, { op: 'signal', target, payload });
    else this.signalHere(device, callId, target, payload);
  }

  private signalHere(device: Device, callId: string, target: DeviceId, payload: Uint8Array): void {
    const call = this.callOf(device, callId);
    const peers = this.peersOf(call, device.id);
    if (!peers.includes(target))
      throw new ParleyError('PERMISSION_DENIED', 'that device is not the other side of this call');
    this.push([target], {
      case: 'callSignalEvent',
      value: { callId, fromUserId: device.userId, fromDeviceId: device.id, payload },
    });
  }

  async end(device: Device, callId: string, wanted: CallEndReason): Promise<CallOutcome> {
    await this.d.limiters.take('callSignal', device.id);
    if (wanted !== CallEndReason.HANGUP && wanted !== CallEndReason.DECLINED && wanted !== CallEndReason.BUSY)
      throw new ParleyError('INVALID_ARGUMENT', 'reason must be CALL_END_REASON_HANGUP, _DECLINED or _BUSY');
    const home = this.homeOf(callId);
    if (home)
      return (await this.cluster!.forward(home, device, callId, {
        op: 'end',
        reason: wanted,
      })) as CallOutcome;
    return this.endHere(device, callId, wanted);
  }

  private endHere(device: Device, callId: string, wanted: CallEndReason): CallOutcome {
    const call = this.callOf(device, callId);
    if (this.peersOf(call, device.id).length === 0)
      throw new ParleyError('PERMISSION_DENIED', 'this device is not in the call');
    const ringing = call.connectedAt === undefined;
    const byCaller = device.id === call.callerDeviceId;
    const reason = !ringing
      ? CallEndReason.HANGUP
      : byCaller
        ? CallEndReason.CANCELLED
        : wanted === CallEndReason.HANGUP
          ? CallEndReason.DECLINED
          : wanted;
    this.finish(call, reason, device);
    return { callId, state: CallState.ENDED, reason };
  }

  /** A device connected: it gets the offer of a call ringing for it (asked of its home if elsewhere). */
  deviceConnected(device: Device): void {
    const call = this.byUser.get(device.userId);
    if (call) {
      this.offerAgain(call, device.id);
      return;
    }
    const remote = this.cluster?.callOf(device.userId);
    if (!remote || remote.connected || remote.calleeUserId !== device.userId) return;
    this.cluster!.forward(remote.home, device, remote.id, { op: 'offer' })
      .then((v) => {
        const o = v as
          | (Omit<WireOffer, 'payload' | 'ringUntil'> & { payload: string; ringUntil: number })
          | null;
        if (!o) return;
        const value = { ...o, payload: Buffer.from(o.payload, 'base64'), ringUntil: BigInt(o.ringUntil) };
        this.push([device.id], { case: 'callOffered', value });
      })
      .catch((err) =>
        this.d.log.warn({ err, callId: remote.id }, 'fetching a call offer from its node failed'),
      );
  }

  /** A message of the calls feature from another node (cluster.ts). */
  onBus(msg: BusMessage): Promise<void> {
    if (!this.cluster) return Promise.resolve();
    return this.cluster.receive(msg, {
      run: (device, callId, op) => this.runHere(device, callId, op),
      onState: (remote) => this.remoteCall(remote),
      onGlare: (callId) => {
        const call = this.calls.get(callId);
        if (call && call.connectedAt === undefined) this.finish(call, CallEndReason.GLARE, undefined);
      },
    });
  }

  private async runHere(device: Device, callId: string, op: CallOp): Promise<unknown> {
    if (op.op === 'answer') return this.answerHere(device, callId, op.payload);
    if (op.op === 'end') return this.endHere(device, callId, op.reason);
    if (op.op === 'offer') {
      const call = this.callOf(device, callId);
      const payload = call.offers?.get(device.id);
      if (!payload) return null;
      const { value } = this.offered(call, payload);
      return {
        ...value,
        payload: Buffer.from(payload).toString('base64'),
        ringUntil: Number(value.ringUntil),
      };
    }
    this.signalHere(device, callId, op.target, op.payload);
    return null;
  }

  /**
   * Another node has a call: if it and one ringing here call each other (two offers on two
   * nodes at once), the higher call id ends, as the rule says; each home decides for its own.
   */
  private remoteCall(remote: CallSummary): void {
    if (remote.connected || remote.silent) return;
    const mine = this.byUser.get(remote.calleeUserId);
    if (
      mine &&
      mine.connectedAt === undefined &&
      !mine.silent &&
      mine.callerUserId === remote.calleeUserId &&
      mine.calleeUserId === remote.callerUserId &&
      remote.id < mine.id
    )
      this.finish(mine, CallEndReason.GLARE, undefined);
  }

  private offerAgain(call: Call, deviceId: DeviceId): void {
    const payload = call.offers?.get(deviceId);
    if (payload) this.push([deviceId], this.offered(call, payload));
  }

  /** Ends unanswered calls, drops old offers, ends connected calls with a device away too long. */
  async sweep(): Promise<void> {
    const now = this.d.clock.now();
    // Devices of connected calls that are not connected here may be on another node.
    const elsewhere: DeviceId[] = [];
    for (const call of this.calls.values())
      if (call.connectedAt !== undefined)
        for (const x of [call.callerDeviceId, call.answeredBy!]) if (!this.d.hub.get(x)) elsewhere.push(x);
    const online =
      elsewhere.length && this.cluster ? await this.cluster.bus.online(elsewhere) : new Set<DeviceId>();
    if (this.cluster && now - this.announcedAt >= this.d.config.callPendingMs / 3) {
      this.announcedAt = now;
      for (const call of this.calls.values()) this.announce(call);
    }
    for (const call of [...this.calls.values()]) {
      if (!this.calls.has(call.id)) continue;
      if (call.connectedAt === undefined) {
        if (now - call.startedAt >= this.d.config.callPendingMs) call.offers = undefined;
        if (now - call.startedAt >= this.d.config.callRingMs)
          this.finish(call, CallEndReason.UNANSWERED, undefined);
        continue;
      }
      for (const deviceId of [call.callerDeviceId, call.answeredBy!]) {
        if (this.d.hub.get(deviceId) || online.has(deviceId)) call.away.delete(deviceId);
        else if (!call.away.has(deviceId)) call.away.set(deviceId, now);
        else if (now - call.away.get(deviceId)! >= this.d.config.callPendingMs) {
          this.finish(call, CallEndReason.CONNECTION_LOST, undefined);
          break;
        }
      }
    }
  }

  private finish(call: Call, reason: CallEndReason, by: Device | undefined): void {
    this.calls.delete(call.id);
    for (const u of [call.callerUserId, call.calleeUserId])
      if (this.byUser.get(u) === call) this.byUser.delete(u);
    const durationMs = call.connectedAt === undefined ? 0 : this.d.clock.now() - call.connectedAt;
    const told = [call.callerDeviceId, ...call.ringDevices].filter((x) => x !== by?.id);
    this.push(told, {
      case: 'callEnded',
      value: { callId: call.id, reason, byUserId: by?.userId ?? '', durationMs: BigInt(durationMs) },
    });
    this.announce(call, true);
    this.d.log.info({ callId: call.id, reason: CallEndReason[reason] }, 'call ended');
    if (reason !== CallEndReason.GLARE) this.writeEvent(call, reason, durationMs);
  }

  private writeEvent(call: Call, reason: CallEndReason, durationMs: number): void {
    if (!call.writeEvent) return;
    const update = callEventUpdate({
      callId: call.id,
      callerUserId: call.callerUserId,
      video: call.video,
      reason,
      durationMs,
    });
    this.d.store
      .chatMutate({
        chatId: call.chatId,
        actorUserId: call.callerUserId,
        // Written by the server, not by a device: every device of both users gets it, the
        // caller's too (a device is never sent what it wrote itself).
        actorDeviceId: '' as DeviceId,
        now: this.d.clock.now(),
        update,
      })
      .then((message) => this.d.hub.fanOut(message, undefined))
      .catch((err) => this.d.log.warn({ err, callId: call.id }, 'writing a call event failed'));
  }

  /** The call `userId` takes part in, here or on another node. */
  private slotOf(userId: UserId): CallSummary | undefined {
    const c = this.byUser.get(userId);
    if (c) return { ...summaryOf(c), home: '' };
    return this.cluster?.callOf(userId);
  }

  /** The home node of a call held elsewhere (undefined: here, or unknown). */
  private homeOf(callId: string): string | undefined {
    return this.calls.has(callId) ? undefined : this.cluster?.homeOf(callId);
  }

  private announce(call: Call, gone = false): void {
    this.cluster?.announce(summaryOf(call), gone);
  }

  /** The devices `deviceId` may signal to in `call` (none: it is not in the call). */
  private peersOf(call: Call, deviceId: DeviceId): DeviceId[] {
    if (call.answeredBy !== undefined) {
      if (deviceId === call.callerDeviceId) return [call.answeredBy];
      return deviceId === call.answeredBy ? [call.callerDeviceId] : [];
    }
    if (deviceId === call.callerDeviceId) return call.ringDevices;
    return call.ringDevices.includes(deviceId) ? [call.callerDeviceId] : [];
  }

  /** The call, if `device`'s user takes part in it; NOT_FOUND otherwise (no other user learns it exists). */
  private callOf(device: Device, callId: string): Call {
    const call = this.calls.get(callId);
    if (
      !call ||
      (call.callerUserId !== device.userId && (call.silent || call.calleeUserId !== device.userId))
    )
      throw new ParleyError('NOT_FOUND', 'no such call (it may have ended)');
    return call;
  }

  private async checkPayloads(callee: UserId, payloads: ReadonlyMap<DeviceId, Uint8Array>): Promise<void> {
    for (const p of payloads.values()) this.checkPayload(p);
    const current = await this.d.directory.devicesOf(callee);
    const missing = current.filter((x) => !payloads.has(x));
    const extra = [...payloads.keys()].filter((x) => !current.includes(x));
    if (missing.length || extra.length) {
      const details: DeviceMismatchDetails = {
        missingDeviceIds: missing,
        extraDeviceIds: extra,
        current: [{ userId: callee, deviceIds: current }],
      };
      throw new ParleyError(
        'DEVICE_MISMATCH',
        'the payloads do not match the callee\u2019s current devices',
        {
          details: details as unknown as Record<string, unknown>,
        },
      );
    }
  }

  private checkPayload(payload: Uint8Array): void {
    if (payload.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'payload is empty');
    const max = Math.min(this.d.config.maxPayloadBytes, CALL_PAYLOAD_MAX_BYTES);
    if (payload.length > max)
      throw new ParleyError('PAYLOAD_TOO_LARGE', `payload is larger than ${max} bytes`);
  }

  private offered(call: Call, payload: Uint8Array): { case: 'callOffered'; value: WireOffer } {
    return {
      case: 'callOffered',
      value: {
        callId: call.id,
        chatId: call.chatId,
        callerUserId: call.callerUserId,
        callerDeviceId: call.callerDeviceId,
        video: call.video,
        payload,
        ringUntil: BigInt(call.startedAt + this.d.config.callRingMs),
      },
    };
  }

  private push(deviceIds: readonly DeviceId[], body: Push): void {
    if (deviceIds.length) this.d.hub.pushToDevices(deviceIds, body);
  }
}

function summaryOf(call: Call): Omit<CallSummary, 'home'> {
  return {
    id: call.id,
    chatId: call.chatId,
    callerUserId: call.callerUserId,
    calleeUserId: call.calleeUserId,
    connected: call.connectedAt !== undefined,
    silent: call.silent,
  };
}

function outcome(call: Call): CallOutcome {
  return {
    callId: call.id,
    state: call.connectedAt === undefined ? CallState.RINGING : CallState.CONNECTED,
    reason: CallEndReason.UNSPECIFIED,
  };
}
