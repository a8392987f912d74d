/**
 * Node-to-node signalling for a scaled-out deployment: where each device is connected, and
 * small JSON messages (wake-ups, presence, typing) between nodes. Invariants every backend keeps:
 * - the Bus never carries message content and is never the only copy of anything: a lost
 *   bus message costs latency (the store is re-read), never data;
 * - messages from one sender to one channel (a node, or the broadcast) arrive in send order;
 * - a device location is readable only until its TTL ends, and only its owner removes it.
 * Errors are ParleyError codes: UNAVAILABLE when the backend cannot be reached or the bus is
 * closed, INTERNAL for a message that breaks the rules below (a bug in the caller).
 */
import { ParleyError } from '@parley/protocol';
import type { DeviceId } from './types.js';

/**
 * A JSON value with a `kind`, e.g. `{ kind: 'wake', chatId, seq }`. It is serialised on send,
 * so receivers get a copy: `undefined` fields vanish, and a Uint8Array or Map does not survive.
 */
export type BusMessage = { kind: string } & Record<string, unknown>;

/** Called for every message addressed to this node or broadcast; `from` is the sender's node id. */
export type BusHandler = (msg: BusMessage, from: string) => void;

export type BusState = 'up' | 'down';

/** Largest serialised message. Wake-ups name a chat and a seq, never payloads or device lists. */
export const BUS_MESSAGE_MAX_BYTES = 64 * 1024;

export interface Bus {
  /** This node's id: letters, digits, `.`, `_`, `-`, at most 64 characters. */
  readonly nodeId: string;
  /**
   * Subscribes to this node's channel and to the broadcast channel, then resolves; from then
   * on `handler` gets every message for this node, in order per sender. A handler that throws
   * does not stop delivery (the adapter reports the error). Rejects UNAVAILABLE when the
   * backend cannot be reached in time (close the bus then), and when already started.
   */
  start(handler: BusHandler): Promise<void>;
  /**
   * Records that these devices are connected to this node for `ttlMs` (a positive integer);
   * calling again refreshes the TTL and moves a device that was located elsewhere. One batch,
   * idempotent. An empty list is a no-op.
   */
  register(deviceIds: readonly DeviceId[], ttlMs: number): Promise<void>;
  /**
   * Removes each device's location only where it still names this node (compare-and-delete),
   * so a late unregister from an old node never hides the device's newer connection.
   */
  unregister(deviceIds: readonly DeviceId[]): Promise<void>;
  /** Node id of each device with a current, unexpired location; devices connected nowhere are absent. */
  locate(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, string>>;
  /**
   * Sends to one node (INTERNAL for an id that cannot name a node). Resolves once the backend accepted it, whether or not a node with that
   * id is listening: delivery is best effort, the store stays the truth.
   */
  sendToNode(nodeId: string, msg: BusMessage): Promise<void>;
  /** Sends to every started node, this one included. Same guarantees as `sendToNode`. */
  broadcast(msg: BusMessage): Promise<void>;
  /** Resolves when the backend answers; rejects UNAVAILABLE otherwise (readiness). */
  ping(): Promise<void>;
  /**
   * Reports transitions after `start`: 'down' when messages may be missed (connection lost),
   * 'up' when the connection and subscriptions are back. After 'up' the node must re-register
   * its devices (the backend may have lost them) and re-read every local session from the store.
   */
  onState(listener: (state: BusState) => void): void;
  /** Stops delivery at once and releases the connections. Idempotent; later calls reject UNAVAILABLE. */
  close(): Promise<void>;
}

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws when `nodeId` cannot name a node (it becomes part of channel names). */
export function assertBusNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId))
    throw new ParleyError('INTERNAL', 'a bus node id is 1-64 letters, digits, ".", "_" or "-"');
}

/** Serialises a message, enforcing the rules every backend shares (kind, JSON, size). */
export function encodeBusMessage(msg: BusMessage): string {
  if (typeof msg !== 'object' || msg === null || typeof msg.kind !== 'string' || msg.kind === '')
    throw new ParleyError('INTERNAL', 'a bus message is an object with a non-empty string kind');
  let text: string;
  try {
    text = JSON.stringify(msg);
  } catch (err) {
    throw new ParleyError('INTERNAL', `bus message ${msg.kind} is not serialisable`, { cause: err });
  }
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 > BUS_MESSAGE_MAX_BYTES && Buffer.byteLength(text) > BUS_MESSAGE_MAX_BYTES)
    throw new ParleyError('INTERNAL', `bus message ${msg.kind} is over ${BUS_MESSAGE_MAX_BYTES} bytes`);
  return text;
}

/** The message in a received value, or undefined when it is not one (dropped by the adapter). */
export function asBusMessage(value: unknown): BusMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === 'string' && kind !== '' ? (value as BusMessage) : undefined;
}

/** Throws unless `ttlMs` is a positive integer. */
export function assertBusTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0)
    throw new ParleyError('INTERNAL', `a location TTL is a positive integer of ms, got ${ttlMs}`);
}
