/** Commands the parent sends to generator processes, and what they answer (IPC, JSON). */
import type { Encoding } from '@parley/protocol';
import type { HistData } from './hist.js';
import type { SendEachCmd } from './push-sender.js';

/** One device a generator process drives. `chats` are the chats it sends to (none: receive only). */
export interface DeviceSpec {
  index: number;
  deviceId: string;
  token: string;
  chats: string[];
  /** chatId → seq this device must receive (and, in 'id' ack mode, have acked) to be drained. */
  expect?: Record<string, number>;
  /** User ids this device asks for a direct chat with, one each, from the end (create-chats). */
  peers?: string[];
}

/** none: never ack; id0: ack each deliver frame with id 0; id: ack with an id and await ackResult. */
export type AckMode = 'none' | 'id0' | 'id';

export type GenCmd =
  | {
      op: 'connect';
      url: string;
      devices: DeviceSpec[];
      localAddress?: string | undefined;
      encoding: Encoding;
      concurrency: number;
      ack: AckMode;
      timeoutMs: number;
    }
  | { op: 'rate'; rate: number; payloadBytes: number; track?: boolean }
  | { op: 'collect' }
  | { op: 'waitDrained'; timeoutMs: number }
  | { op: 'storm'; dropAt: number; timeoutMs: number }
  | { op: 'createRate'; rate: number }
  | { op: 'createCollect' }
  | SendEachCmd
  | { op: 'close' };

export interface ConnectResult {
  connected: number;
  failed: number;
  firstStartAt: number;
  lastWelcomeAt: number;
  errors: string[];
}

export interface Counters {
  sent: number;
  acked: number;
  sendErrors: number;
  skipped: number;
  received: number;
  dupes: number;
  deliverFrames: number;
  /** Receipt pushes (delivered / read positions of others) received. */
  receipts: number;
}

export interface CollectResult {
  at: number;
  window: Counters;
  total: Counters;
  open: number;
  outstanding: number;
  hist: HistData;
  /** Delay from the sender's stamp to the server's (serverTime) of each delivery. */
  histIn: HistData;
  errorFrames: Record<string, number>;
  closes: Record<string, number>;
  /** Group mode: per message "sender:counter" → [deliveries, max latency ms], this window. */
  fan?: Array<[string, number, number]>;
  /** Group mode: messages sent this window, "sender:counter" → send time. */
  sentKeys?: Array<[string, number]>;
}

export interface DrainResult {
  devices: number;
  drained: number;
  maxWelcomeAt: number;
  maxDrainedAt: number;
  maxAttempts: number;
  failedAttempts: number;
  /** Per device details when there are only a few. */
  detail?: Array<{
    connectStartAt: number;
    welcomeAt: number;
    lastMsgAt: number;
    drainedAt: number;
    received: number;
  }>;
}
