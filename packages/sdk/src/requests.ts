/**
 * Requests in flight on the current socket: each has a client-chosen frame id and waits
 * for exactly one answer frame with that id. Invariant: an entry leaves the table exactly
 * once, by its answer, by `dropAll` (socket gone) or by its timeout (the socket is then
 * presumed dead and the owner drops it, which drops every entry).
 */
import { type Frame, isErrorCode, ParleyError, type Error as ProtoError } from '@parley/protocol';
import { FrameIdAllocator } from './ids.js';

export interface InFlightEntry {
  /** The answer: a result body or `error`. */
  answer(frame: Frame): void;
  /** The socket dropped (or the client closed) before an answer came. */
  drop(err: ParleyError): void;
}

type Body = NonNullable<Frame['body']>;
type Case = NonNullable<Body['case']>;
export type ResultOf<K extends Case> = Extract<Body, { case: K }>['value'];

/**
 * True for a request that failed because the connection was lost or the node is going away
 * (UNAVAILABLE, SHUTTING_DOWN): work that runs again on the next connection need not report it.
 */
export function isOffline(err: unknown): boolean {
  return err instanceof ParleyError && (err.code === 'UNAVAILABLE' || err.code === 'SHUTTING_DOWN');
}

/** The ParleyError an `error` frame stands for; DEVICE_MISMATCH carries `deviceMismatch` in details. */
export function errorFromFrame(e: ProtoError): ParleyError {
  const code = isErrorCode(e.code) ? e.code : 'INTERNAL';
  const message = code === e.code ? e.message : `${e.code}: ${e.message}`;
  return new ParleyError(code, message, {
    retryAfterMs: e.retryAfterMs > 0 ? e.retryAfterMs : undefined,
    details: e.deviceMismatch ? { deviceMismatch: e.deviceMismatch } : undefined,
  });
}

/** The answer's body of the expected case; throws the server's error or INTERNAL on anything else. */
export function resultOf<K extends Case>(frame: Frame, expected: K): ResultOf<K> {
  const body = frame.body;
  if (body.case === 'error') throw errorFromFrame(body.value);
  if (body.case !== expected) {
    throw new ParleyError('INTERNAL', `expected ${expected} answer, got ${body.case ?? 'empty frame'}`);
  }
  return body.value as ResultOf<K>;
}

export class InFlight {
  private readonly ids = new FrameIdAllocator();
  private readonly entries = new Map<
    number,
    { entry: InFlightEntry; timer: ReturnType<typeof setTimeout> }
  >();

  constructor(
    private readonly timeoutMs: number,
    /** Called when a request got no answer in time. */
    private readonly onTimeout: (id: number) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Registers an entry under a fresh id and starts its timer (default: the table's timeout). */
  register(entry: InFlightEntry, timeoutMs = this.timeoutMs): number {
    const id = this.ids.next((candidate) => this.entries.has(candidate));
    const timer = setTimeout(() => this.onTimeout(id), timeoutMs);
    this.entries.set(id, { entry, timer });
    return id;
  }

  /** Hands an answer frame to its entry; false when no request has that id. */
  settle(frame: Frame): boolean {
    const slot = this.entries.get(frame.id);
    if (!slot) return false;
    this.entries.delete(frame.id);
    clearTimeout(slot.timer);
    slot.entry.answer(frame);
    return true;
  }

  /** Removes every entry, telling each why. */
  dropAll(err: ParleyError): void {
    const slots = [...this.entries.values()];
    this.entries.clear();
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.entry.drop(err);
    }
  }
}
