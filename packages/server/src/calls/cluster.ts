/**
 * Calls across nodes (docs/calls.md, "Several nodes"). A call lives on its home node, the one
 * that took the offer. Every node keeps a summary of the calls homed elsewhere (who calls
 * whom, ringing or connected), from the `state` messages each home broadcasts when a call
 * starts, connects or ends and again every `refreshMs` while it lasts; a summary not refreshed
 * in time is dropped, so a crashed home's calls vanish. With them a node sees busy users and
 * glare, and forwards to the home answers, signals, ends and the request for the offer of a
 * device that connects here while the call rings (`req`, answered by `res`).
 * Nothing here is stored; payloads cross the bus as base64 (calls cap them to fit).
 */
import { ParleyError } from '@parley/protocol';
import type { BusMessage } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { ChatId, Device, DeviceId, UserId } from '../ports/types.js';

/** What the calls feature needs of the bus (delivery/cluster.ts provides it). */
export interface CallBus {
  readonly nodeId: string;
  send(node: string, msg: BusMessage): void;
  /** Devices connected to any node. */
  online(deviceIds: readonly DeviceId[]): Promise<Set<DeviceId>>;
}

/** A call as every node may know it. */
export interface CallSummary {
  id: string;
  chatId: ChatId;
  callerUserId: UserId;
  calleeUserId: UserId;
  connected: boolean;
  /** Rings on no device of the callee (it then holds no slot of theirs). */
  silent: boolean;
  home: string;
}

/** A request forwarded to a call's home node. */
export type CallOp =
  | { op: 'answer'; payload: Uint8Array }
  | { op: 'signal'; target: DeviceId; payload: Uint8Array }
  | { op: 'end'; reason: number }
  /** The offer made for a callee device that connected to another node while the call rings. */
  | { op: 'offer' };

const RPC_TIMEOUT_MS = 5000;

interface Remote extends CallSummary {
  expiresAt: number;
}

export class CallCluster {
  private readonly remote = new Map<string, Remote>();
  private readonly byUser = new Map<UserId, Remote>();
  private readonly waiting = new Map<
    string,
    { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  private nextId = 0;

  constructor(
    readonly bus: CallBus,
    private readonly clock: Clock,
    /** How long a summary lives without a refresh. */
    private readonly ttlMs: number,
  ) {}

  /** A call of `userId` homed on another node, if any. */
  callOf(userId: UserId): CallSummary | undefined {
    const c = this.byUser.get(userId);
    if (c && c.expiresAt <= this.clock.now()) {
      this.forget(c.id);
      return undefined;
    }
    return c;
  }

  /** The home of call `callId` when it is another node. */
  homeOf(callId: string): string | undefined {
    const c = this.remote.get(callId);
    return c && c.expiresAt > this.clock.now() ? c.home : undefined;
  }

  /** Tells every node about a call homed here (`gone`: it ended). */
  announce(call: Omit<CallSummary, 'home'>, gone = false): void {
    this.bus.send('broadcast', { kind: 'call', t: 'state', ...call, home: this.bus.nodeId, gone });
  }

  /** Runs `op` on the home node as `device`; resolves with the home's answer. */
  forward(home: string, device: Device, callId: string, op: CallOp): Promise<unknown> {
    const id = `${this.bus.nodeId}:${++this.nextId}`;
    const args = opToWire(op);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ParleyError('UNAVAILABLE', 'the node holding this call did not answer; try again'));
      }, RPC_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, { resolve, reject, timer });
      this.bus.send(home, {
        kind: 'call',
        t: 'req',
        id,
        from: this.bus.nodeId,
        callId,
        device: { id: device.id, userId: device.userId },
        op: op.op,
        ...args,
      });
    });
  }

  /** Asks the home of a ringing call to end it: it lost to glare. */
  glare(home: string, callId: string): void {
    this.bus.send(home, { kind: 'call', t: 'glare', callId });
  }

  /**
   * Handles a `call` bus message. `run` executes a forwarded request on this (home) node;
   * `onState` hears of a remote call (glare between nodes); `onGlare` ends a call homed here.
   */
  async receive(
    msg: BusMessage,
    h: {
      run(device: Device, callId: string, op: CallOp): Promise<unknown>;
      onState(call: CallSummary): void;
      onGlare(callId: string): void;
    },
  ): Promise<void> {
    switch (msg.t) {
      case 'state': {
        if (msg.home === this.bus.nodeId) return;
        const call = summaryOf(msg);
        if (msg.gone) this.forget(call.id);
        else {
          this.forget(call.id);
          const r = { ...call, expiresAt: this.clock.now() + this.ttlMs };
          this.remote.set(r.id, r);
          this.byUser.set(r.callerUserId, r);
          if (!r.silent) this.byUser.set(r.calleeUserId, r);
          h.onState(call);
        }
        return;
      }
      case 'req': {
        const device = msg.device as { id: DeviceId; userId: UserId };
        const op = opFromWire(msg);
        let res: BusMessage;
        try {
          const value = await h.run(device as Device, String(msg.callId), op);
          res = { kind: 'call', t: 'res', id: msg.id, value: value ?? null };
        } catch (err) {
          const e = err instanceof ParleyError ? err : new ParleyError('INTERNAL', 'the call request failed');
          res = { kind: 'call', t: 'res', id: msg.id, code: e.code, message: e.message };
        }
        this.bus.send(String(msg.from), res);
        return;
      }
      case 'res': {
        const w = this.waiting.get(String(msg.id));
        if (!w) return;
        this.waiting.delete(String(msg.id));
        clearTimeout(w.timer);
        if (typeof msg.code === 'string')
          w.reject(new ParleyError(msg.code as ParleyError['code'], String(msg.message ?? '')));
        else w.resolve(msg.value);
        return;
      }
      case 'glare':
        h.onGlare(String(msg.callId));
        return;
    }
  }

  private forget(callId: string): void {
    const c = this.remote.get(callId);
    if (!c) return;
    this.remote.delete(callId);
    for (const u of [c.callerUserId, c.calleeUserId]) if (this.byUser.get(u) === c) this.byUser.delete(u);
  }
}

function summaryOf(msg: BusMessage): CallSummary {
  return {
    id: String(msg.id),
    chatId: msg.chatId as ChatId,
    callerUserId: msg.callerUserId as UserId,
    calleeUserId: msg.calleeUserId as UserId,
    connected: msg.connected === true,
    silent: msg.silent === true,
    home: String(msg.home),
  };
}

function opToWire(op: CallOp): Record<string, unknown> {
  switch (op.op) {
    case 'offer':
      return {};
    case 'end':
      return { reason: op.reason };
    case 'signal':
      return { target: op.target, payload: Buffer.from(op.payload).toString('base64') };
    case 'answer':
      return { payload: Buffer.from(op.payload).toString('base64') };
  }
}

function opFromWire(msg: BusMessage): CallOp {
  const payload = () => Buffer.from(String(msg.payload), 'base64');
  switch (msg.op) {
    case 'offer':
      return { op: 'offer' };
    case 'end':
      return { op: 'end', reason: Number(msg.reason) };
    case 'signal':
      return { op: 'signal', target: msg.target as DeviceId, payload: payload() };
    default:
      return { op: 'answer', payload: payload() };
  }
}
