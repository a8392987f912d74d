/**
 * The push scenario's sender, run in a generator process: one device connects and sends one
 * message to each chat of a list, in order, as fast as answers come back (at most `window`
 * unanswered) or at a fixed rate, and records per message when it was sent, when its
 * sendResult arrived (the sender now knows it is committed) and the server's serverTime.
 */
import { decodeFrame, type Encoding, encodeFrame, makeFrame, offeredSubprotocols } from '@parley/protocol';
import WebSocket from 'ws';
import { makePayload } from './payload.js';
import { nowMs, withDeadline } from './util.js';

export interface SendEachCmd {
  op: 'sendEach';
  url: string;
  /** The sending device: its index (stamped in payloads) and bearer token. */
  device: { index: number; token: string };
  chats: string[];
  encoding: Encoding;
  /** Messages per second; 0: as fast as answers come back, `window` unanswered at most. */
  rate: number;
  window: number;
  payloadBytes: number;
  localAddress?: string | undefined;
  timeoutMs: number;
}

export interface SendEachResult {
  /** Per chat, in the order given: when the send left, ms since the epoch (µs fraction). */
  sentAt: number[];
  /** When its sendResult arrived; 0 when none did (refused or timed out). */
  answeredAt: number[];
  /** The server's serverTime in the sendResult (ms); 0 when none. */
  serverTime: number[];
  /** Error frames by code. */
  errors: Record<string, number>;
}

export async function sendEach(cmd: SendEachCmd): Promise<SendEachResult> {
  const n = cmd.chats.length;
  const r: SendEachResult = {
    sentAt: new Array(n).fill(0),
    answeredAt: new Array(n).fill(0),
    serverTime: new Array(n).fill(0),
    errors: {},
  };
  const binary = cmd.encoding === 'proto';
  const ws = new WebSocket(`${cmd.url.replace(/^http/, 'ws')}/v1/ws`, offeredSubprotocols(cmd.encoding), {
    headers: { authorization: `Bearer ${cmd.device.token}` },
    perMessageDeflate: false,
    ...(cmd.localAddress && { localAddress: cmd.localAddress }),
  });
  let next = 0;
  let answered = 0;
  let welcomed!: () => void;
  let done!: () => void;
  let failed!: (err: Error) => void;
  const welcome = new Promise<void>((res) => {
    welcomed = res;
  });
  const finished = new Promise<void>((res, rej) => {
    done = res;
    failed = rej;
  });
  // A socket that fails before the welcome fails the connect too (not an unhandled rejection).
  finished.catch(() => {});
  const t0 = { at: 0 };
  const pump = () => {
    const allowed = cmd.rate > 0 ? Math.floor((cmd.rate * (nowMs() - t0.at)) / 1000) + 1 : n;
    while (next < n && next < allowed && next - answered < cmd.window) {
      const i = next++;
      const at = nowMs();
      const frame = makeFrame({
        id: i + 1,
        body: {
          case: 'send',
          value: {
            clientMessageId: `push-${i}`,
            chatId: cmd.chats[i]!,
            payload: makePayload(cmd.payloadBytes, at, cmd.device.index, i),
          },
        },
      });
      r.sentAt[i] = at;
      ws.send(encodeFrame(frame, cmd.encoding), { binary });
    }
  };
  ws.on('error', (err) => failed(err));
  ws.on('close', (code) => failed(new Error(`the sender's socket closed (${code})`)));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = decodeFrame(isBinary ? data : data.toString('utf8'), cmd.encoding);
    const b = frame.body;
    if (b.case === 'welcome') return welcomed();
    const i = frame.id - 1;
    if (i < 0 || i >= n || r.answeredAt[i] !== 0) return;
    if (b.case === 'sendResult') {
      r.answeredAt[i] = nowMs();
      r.serverTime[i] = Number(b.value.serverTime);
    } else if (b.case === 'error') {
      r.errors[b.value.code] = (r.errors[b.value.code] ?? 0) + 1;
      r.answeredAt[i] = -1;
    } else return;
    answered++;
    if (answered === n) done();
    else if (cmd.rate === 0) pump();
  });
  try {
    await withDeadline(Promise.race([welcome, finished]), cmd.timeoutMs, "the sender's connect");
    t0.at = nowMs();
    const timer = cmd.rate > 0 ? setInterval(pump, 2) : undefined;
    pump();
    try {
      await withDeadline(finished, cmd.timeoutMs, `answers to ${n} sends`);
    } finally {
      clearInterval(timer);
    }
  } finally {
    ws.removeAllListeners('close');
    ws.on('error', () => {});
    ws.terminate();
  }
  for (let i = 0; i < n; i++) if (r.answeredAt[i]! < 0) r.answeredAt[i] = 0;
  return r;
}
