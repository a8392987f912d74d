/**
 * A lean protocol client (ws + @parley/protocol codec, no SDK): connects with a device
 * token, counts sends, answers and deliveries into shared worker stats, records the delay
 * from the sender's timestamp to receipt, acks each deliver frame, and tracks "drained".
 * With `creates` set it also sends createChat requests and reports their answers and the
 * CREATED updates it receives (create-chats scenario).
 */
import {
  ChatKind,
  ChatUpdateKind,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type Message,
  makeFrame,
  offeredSubprotocols,
} from '@parley/protocol';
import WebSocket from 'ws';
import {
  type FastFrame,
  type FastMessage,
  readFastFrame,
  writeAckFrame,
  writeSendFrame,
} from './fast-frames.js';
import type { WorkerStats } from './gen-stats.js';
import type { AckMode, DeviceSpec } from './gen-types.js';
import { readPayload } from './payload.js';
import { nowMs } from './util.js';

/** A delivered message as the client uses it, from either codec. */
interface Delivered extends FastMessage {
  /** A CREATED chat update (create-chats scenario). */
  created?: boolean;
}

function toDelivered(m: Message): Delivered {
  return {
    chatId: m.chatId,
    seq: Number(m.seq),
    serverTime: Number(m.serverTime),
    payload: m.body.case === 'payload' ? m.body.value : undefined,
    created: m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.CREATED,
  };
}

/** Where a client reports its createChat answers and the CREATED updates it receives. */
export interface CreateHooks {
  answered(chatId: string, sentAt: number, at: number): void;
  failed(code: string): void;
  created(chatId: string, at: number): void;
}

export class LeanClient {
  ws: WebSocket | undefined;
  open = false;
  connectStartAt = 0;
  welcomeAt = 0;
  lastMsgAt = 0;
  drainedAt = 0;
  attempts = 0;
  inflight = 0;
  received = 0;
  ack: AckMode;
  /** Reconnect after an unexpected close (reconnect storm). */
  onLost: (() => void) | undefined;
  creates: CreateHooks | undefined;
  /** createChat requests not answered yet: frame id → time sent. */
  private readonly createSentAt = new Map<number, number>();
  private nextId = 1;
  private readonly uniq = new Map<string, number>();
  private ackIds = new Map<number, Array<[string, number]>>();
  private satisfied = new Set<string>();
  private readonly binary: boolean;

  constructor(
    readonly spec: DeviceSpec,
    private readonly encoding: Encoding,
    private readonly stats: WorkerStats,
    ack: AckMode,
  ) {
    this.binary = encoding === 'proto';
    this.ack = ack;
  }

  /** Opens the socket; resolves on welcome, rejects on refusal, error or timeout. */
  connect(url: string, localAddress: string | undefined, timeoutMs: number): Promise<void> {
    this.connectStartAt = nowMs();
    this.createSentAt.clear();
    this.satisfied = new Set();
    this.ackIds = new Map();
    this.inflight = 0;
    this.attempts++;
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`, offeredSubprotocols(this.encoding), {
      headers: { authorization: `Bearer ${this.spec.token}` },
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
      ...(localAddress && { localAddress }),
    });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        ws.terminate();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail('no welcome in time'), timeoutMs);
      ws.on('unexpected-response', (_req, res) => fail(`upgrade refused: HTTP ${res.statusCode}`));
      ws.on('error', (err) => fail(err.message));
      ws.on('close', (code) => {
        const wasOpen = this.open;
        this.open = false;
        if (this.ws !== ws) return;
        if (!settled) return fail(`closed ${code} before welcome`);
        if (wasOpen) {
          this.stats.close(code);
          this.onLost?.();
        }
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const fast = isBinary && this.binary ? readFastFrame(data) : undefined;
        if (fast) {
          this.onFastFrame(fast);
          return;
        }
        const frame = decodeFrame(isBinary ? data : data.toString('utf8'), this.encoding);
        if (frame.body.case === 'welcome' && !settled) {
          settled = true;
          clearTimeout(timer);
          this.open = true;
          this.welcomeAt = nowMs();
          resolve();
          return;
        }
        this.onFrame(frame);
      });
    });
  }

  send(chatId: string, clientMessageId: string, payload: Uint8Array): void {
    const ws = this.ws!;
    const id = this.nextId++;
    const fast = this.binary ? writeSendFrame(id, chatId, clientMessageId, payload) : undefined;
    if (fast) ws.send(fast, { binary: true });
    else {
      const frame = makeFrame({ id, body: { case: 'send', value: { clientMessageId, chatId, payload } } });
      ws.send(encodeFrame(frame, this.encoding), { binary: this.binary });
    }
    this.inflight++;
    this.stats.w.sent++;
  }

  /** Asks for a direct chat with `userId`; the answer goes to `creates`. */
  createChat(userId: string): void {
    const id = this.nextId++;
    const frame = makeFrame({
      id,
      body: { case: 'createChat', value: { kind: ChatKind.DIRECT, memberUserIds: [userId] } },
    });
    this.createSentAt.set(id, nowMs());
    this.ws!.send(encodeFrame(frame, this.encoding), { binary: this.binary });
  }

  /** createChat requests sent on the current socket and not answered yet. */
  get createsInflight(): number {
    return this.createSentAt.size;
  }

  terminate(): void {
    this.open = false;
    this.ws?.terminate();
  }

  private onFrame(frame: Frame): void {
    const b = frame.body;
    switch (b.case) {
      case 'sendResult':
        this.onSendResult();
        return;
      case 'ackResult':
        this.onAckResult(frame.id);
        return;
      case 'chatResult': {
        const sentAt = this.createSentAt.get(frame.id);
        if (sentAt === undefined) return;
        this.createSentAt.delete(frame.id);
        this.creates?.answered(b.value.chat?.id ?? '', sentAt, nowMs());
        return;
      }
      case 'error':
        this.stats.error(b.value.code);
        if (this.createSentAt.delete(frame.id)) {
          this.creates?.failed(b.value.code);
          return;
        }
        if (frame.id !== 0 && !this.ackIds.delete(frame.id)) {
          this.inflight--;
          this.stats.w.sendErrors++;
        }
        return;
      case 'deliver':
        this.onDeliver(b.value.messages.map(toDelivered));
        return;
      case 'receipt':
        this.stats.w.receipts++;
        return;
      case 'receipts':
        this.stats.w.receipts += b.value.receipts.length;
        return;
      default:
        return;
    }
  }

  /** The frames of the hot path, read without the full codec (fast-frames.ts). */
  private onFastFrame(f: FastFrame): void {
    if (f.case === 'deliver') this.onDeliver(f.messages);
    else if (f.case === 'sendResult') this.onSendResult();
    else if (f.case === 'ackResult') this.onAckResult(f.id);
    else if (f.case === 'receipts') this.stats.w.receipts += f.count;
  }

  private onSendResult(): void {
    this.inflight--;
    this.stats.w.acked++;
  }

  private onAckResult(id: number): void {
    const cursors = this.ackIds.get(id);
    this.ackIds.delete(id);
    if (cursors) for (const [chat, seq] of cursors) this.satisfy(chat, seq);
  }

  private onDeliver(messages: readonly Delivered[]): void {
    if (messages.length === 0) return;
    const now = nowMs();
    const top = new Map<string, number>();
    this.stats.w.deliverFrames++;
    for (const m of messages) {
      const seq = m.seq;
      if (seq > (top.get(m.chatId) ?? 0)) top.set(m.chatId, seq);
      if (seq <= (this.uniq.get(m.chatId) ?? 0)) {
        this.stats.w.dupes++;
        continue;
      }
      this.uniq.set(m.chatId, seq);
      if (m.created) this.creates?.created(m.chatId, now);
      const h = m.payload ? readPayload(m.payload) : undefined;
      if (!h) continue;
      this.received++;
      this.stats.w.received++;
      this.stats.delivered(h, now - h.sentAt);
      this.stats.stamped(m.serverTime - h.sentAt);
    }
    this.lastMsgAt = now;
    if (this.ack === 'none' || this.ack === 'id0') for (const [c, s] of top) this.satisfy(c, s);
    if (this.ack === 'none') return;
    const id = this.ack === 'id' ? this.nextId++ : 0;
    if (id) this.ackIds.set(id, [...top]);
    const fast = this.binary ? writeAckFrame(id, [...top]) : undefined;
    if (fast) {
      this.ws!.send(fast, { binary: true });
      return;
    }
    const cursors = [...top].map(([chatId, seq]) => ({ chatId, seq: BigInt(seq) }));
    const frame = makeFrame({ id, body: { case: 'ack', value: { cursors } } });
    this.ws!.send(encodeFrame(frame, this.encoding), { binary: this.binary });
  }

  /** Marks a chat as drained up to `seq`; the device is drained when every expected chat is. */
  private satisfy(chatId: string, seq: number): void {
    const want = this.spec.expect?.[chatId];
    if (want === undefined || seq < want || this.satisfied.has(chatId)) return;
    this.satisfied.add(chatId);
    if (this.satisfied.size === Object.keys(this.spec.expect!).length) this.drainedAt = nowMs();
  }
}
