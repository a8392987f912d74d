/**
 * Property-based frame fuzzer over real sockets against a real node: at least 100,000 frames
 * that the node reads, in both encodings (random bytes, mutated valid frames of every body
 * case, truncations, wrong field types, huge varints, deep nesting, unknown fields, oversized
 * frames). Properties: every frame the node reads gets exactly one answer (never INTERNAL),
 * a connection closed for too many bad frames can reconnect, memory stays bounded, and the
 * node still delivers messages afterwards. Frames go out in pipelined batches on several
 * connections at once; the seed of each batch is in the failure message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  CloseCodes,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  offeredSubprotocols,
} from '@parley/protocol';
import fc from 'fast-check';
import WebSocket from 'ws';
import { type Creds, createGroup, RawClient, register, startNode, type TestNode, text } from './harness.js';

const TARGET_FRAMES = Number(process.env.PARLEY_FUZZ_FRAMES ?? 100_000);
const LANES = 6;
const BATCH = 25;
const MAX_FRAME = 4096;
const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20_261_204);

interface Fuzzed {
  data: Buffer | string;
  binary: boolean;
}

const b64 = (n: number, fill = 1) => Buffer.alloc(n, fill).toString('base64');

/** One valid request (or server-only body) of every case, as protobuf JSON objects. */
function templates(chatId: string, userId: string, deviceId: string): object[] {
  const send = { chatId, clientMessageId: 'fz-1', payload: b64(12) };
  return [
    { send },
    { send: { chatId, clientMessageId: 'fz-2', devicePayloads: [{ deviceId, payload: b64(8) }] } },
    { ack: { cursors: [{ chatId, seq: '1' }] } },
    { createChat: { kind: 'CHAT_KIND_GROUP', memberUserIds: [userId], name: 'fuzz', description: 'd' } },
    { addMembers: { chatId, userIds: [userId] } },
    { removeMember: { chatId, userId } },
    { updateChat: { chatId, name: 'n', description: 'd', onlyAdminsSend: true, disappearingSeconds: 60 } },
    { setRole: { chatId, userId, role: 'ROLE_ADMIN' } },
    { createInvite: { chatId } },
    { revokeInvite: { chatId } },
    { joinByInvite: { code: 'abcdefghij' } },
    { leaveChat: { chatId } },
    { getChat: { chatId } },
    { listChats: {} },
    { history: { chatId, beforeSeq: '10', limit: 5 } },
    { listDevices: { userIds: [userId] } },
    {
      uploadKeys: {
        identityKey: b64(33, 5),
        registrationId: 7,
        signedPreKey: { id: 1, publicKey: b64(33), signature: b64(64) },
        lastResortKey: { id: 2, publicKey: b64(33), signature: b64(64) },
        oneTimePreKeys: [{ id: 3, publicKey: b64(33) }],
      },
    },
    { getPreKeyBundles: { userId, deviceIds: [deviceId] } },
    { getIdentityKeys: { userIds: [userId] } },
    { retry: { chatId, seq: '1' } },
    { resend: { chatId, seq: '1', deviceId, payload: b64(4) } },
    { discover: { phoneHashes: [b64(32)] } },
    { markRead: { chatId, seq: '1' } },
    { forward: { sends: [{ ...send, clientMessageId: 'fz-3', meta: { forwardCount: 1 } }] } },
    { pin: { chatId, seq: '1', duration: 'PIN_DURATION_24_HOURS' } },
    { getReceipts: { chatId, seq: '1' } },
    { subscribePresence: { userIds: [userId] } },
    { setPrivacy: { lastSeen: 'LAST_SEEN_VISIBILITY_CONTACTS', readReceipts: true } },
    { typing: { chatId, state: 'TYPING_STATE_COMPOSING' } },
    { ping: {} },
    // Bodies only the server sends.
    { pong: { serverTime: '1' } },
    { welcome: { protocolVersion: 1, userId } },
    { deliver: { messages: [{ chatId, seq: '1', payload: b64(4) }], backlog: true } },
    { error: { code: 'INTERNAL', message: 'm' } },
  ].map((body, i) => ({ id: i + 1, ...body }));
}

/** Applies byte (or character) edits: flips, inserts, deletions, duplications. */
function mutate<T extends Buffer | string>(src: T, edits: Array<[number, number, number]>): T {
  let s: Buffer | string = src;
  for (const [op, at, v] of edits) {
    const pos = s.length === 0 ? 0 : at % s.length;
    const piece = typeof s === 'string' ? String.fromCharCode(v) : Buffer.from([v]);
    const cat = (...parts: Array<Buffer | string>) =>
      typeof s === 'string' ? parts.join('') : Buffer.concat(parts as Buffer[]);
    if (op === 0) s = cat(s.slice(0, pos), piece, s.slice(pos + 1));
    else if (op === 1) s = cat(s.slice(0, pos), piece, s.slice(pos));
    else if (op === 2) s = cat(s.slice(0, pos), s.slice(pos + 1 + (v % 8)));
    else s = cat(s.slice(0, pos + (v % 16)), s.slice(pos));
  }
  return s as T;
}

function varint(n: bigint): number[] {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

/** Every path to a value inside a JSON object. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [at];
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => paths((v as Record<string | number, unknown>)[k], [...at, k]))];
}

function replaceAt(v: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[path[0]!] = replaceAt(copy[path[0]!], path.slice(1), value);
  return copy;
}

/** Strings of any UTF-16 code units, lone surrogates included (fast-check's 'binary' unit caches ~90 MB). */
const codeUnits = (maxLength: number) =>
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength })
    .map((units) => String.fromCharCode(...units));

function frameArbitrary(encoding: Encoding, json: object[]): fc.Arbitrary<Fuzzed> {
  const texts = json.map((o) => JSON.stringify(o));
  const protos = json.map((o) => Buffer.from(encodeFrame(decodeFrame(JSON.stringify(o), 'json'), 'proto')));
  const bin = (data: Buffer): Fuzzed => ({ data, binary: true });
  const str = (data: string): Fuzzed => ({ data, binary: false });
  const own = (data: Buffer | string): Fuzzed =>
    encoding === 'proto' ? bin(Buffer.from(data)) : str(String(data));
  const edits = fc.array(fc.tuple(fc.nat(3), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 });
  const nth = fc.nat(json.length - 1);

  const random = fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((b) => bin(Buffer.from(b))),
    codeUnits(300).map(str),
  );
  const valid = nth.map((i) => own(encoding === 'proto' ? protos[i]! : texts[i]!));
  const mutated = fc
    .tuple(nth, edits)
    .map(([i, e]) => (encoding === 'proto' ? bin(mutate(protos[i]!, e)) : str(mutate(texts[i]!, e))));
  const truncated = fc.tuple(nth, fc.nat()).map(([i, cut]) => {
    const whole = encoding === 'proto' ? protos[i]! : texts[i]!;
    return own(whole.slice(0, cut % Math.max(1, whole.length)));
  });
  // A value of another type (or shape) at any place of a valid frame.
  const wrongType = fc.tuple(nth, fc.nat(), fc.jsonValue({ maxDepth: 2 })).map(([i, at, value]) => {
    const all = paths(json[i]);
    if (encoding === 'json') return str(JSON.stringify(replaceAt(json[i], all[at % all.length]!, value)));
    // In binary: a valid field number with the wrong wire type.
    const field = 1 + (at % 70);
    return bin(Buffer.concat([protos[i]!, Buffer.from([...varint(BigInt(field << 3) | 5n), 1, 2, 3, 4])]));
  });
  const hugeVarint = fc
    .tuple(fc.nat(70), fc.integer({ min: 10, max: 40 }), fc.constantFrom(0, 2))
    .map(([field, len, wire]) => {
      const tag = varint(BigInt(field << 3) | BigInt(wire));
      const big = [...Array(len - 1).fill(0xff), 0x01];
      if (encoding === 'json')
        return str(`{"id":${'9'.repeat(len * 3)},"history":{"chatId":"c","limit":${'9'.repeat(len)}}}`);
      return bin(Buffer.from([...tag, ...big, 1, 2, 3]));
    });
  const deep = fc.tuple(fc.integer({ min: 50, max: 1800 }), fc.boolean()).map(([depth, arrays]) => {
    if (encoding === 'json') {
      // Deep enough to break a recursive parser, small enough to be read (not FRAME_TOO_LARGE).
      const [open, close, n] = arrays ? ['[', ']', depth] : ['{"a":', '}', Math.min(depth, 650)];
      return str(`{"id":1,"send":${open.repeat(n)}1${close.repeat(n)}}`);
    }
    // Nested length-delimited fields (or groups) inside the send body.
    if (!arrays) return bin(Buffer.from([0x08, 0x01, ...Array(depth).fill(0x0b)]));
    let inner = Buffer.from([0x08, 0x01]);
    for (let d = 0; d < Math.min(depth, 600) && inner.length < MAX_FRAME - 8; d++) {
      inner = Buffer.concat([Buffer.from([0x52, ...varint(BigInt(inner.length))]), inner]);
    }
    return bin(Buffer.concat([Buffer.from([0x08, 0x01]), inner]));
  });
  const unknownFields = fc.tuple(nth, codeUnits(12), fc.nat(1 << 20)).map(([i, key, n]) => {
    if (encoding === 'json') return str(JSON.stringify({ ...json[i], [key]: n }));
    return bin(
      Buffer.concat([
        protos[i]!,
        Buffer.from([...varint(BigInt((1000 + (n % 5000)) << 3)), ...varint(BigInt(n))]),
      ]),
    );
  });
  const wrongKind = valid.map((f) =>
    typeof f.data === 'string' ? bin(Buffer.from(f.data)) : str(f.data.toString('latin1')),
  );
  const oversized = fc.integer({ min: MAX_FRAME + 1, max: 2 * MAX_FRAME }).map((n) => own('x'.repeat(n)));
  return fc.oneof(
    { weight: 3, arbitrary: random },
    { weight: 2, arbitrary: valid },
    { weight: 6, arbitrary: mutated },
    { weight: 2, arbitrary: truncated },
    { weight: 2, arbitrary: wrongType },
    { weight: 1, arbitrary: hugeVarint },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: unknownFields },
    { weight: 1, arbitrary: wrongKind },
    { weight: 1, arbitrary: oversized },
  );
}

interface Tally {
  answered: number;
  /** Frames from the node the client could not decode (an error message quoting bad input, say). */
  undecodable: number;
  sent: number;
  connections: number;
  closes: Map<number, number>;
  codes: Map<string, number>;
}

/**
 * Whether the node may read `f` as an ack with id 0, which gets no answer. Decoded leniently
 * (unknown fields allowed): predicting silence for a frame the node answers only ends a batch
 * early, while the reverse would wait for an answer that never comes.
 */
function silentAck(f: Fuzzed, encoding: Encoding): boolean {
  try {
    const frame =
      encoding === 'json'
        ? decodeFrame(typeof f.data === 'string' ? f.data : f.data.toString('utf8'), 'json')
        : f.binary
          ? decodeFrame(f.data as Buffer, 'proto')
          : undefined;
    return frame !== undefined && frame.id === 0 && frame.body.case === 'ack';
  } catch {
    return false;
  }
}

/** One connection of a lane: sends batches, counts the answers (frames with an id, or id-0 errors). */
class LaneSocket {
  answered = 0;
  closed: number | undefined;
  private waiter: (() => void) | undefined;

  private constructor(
    readonly ws: WebSocket,
    private readonly encoding: Encoding,
    private readonly tally: Tally,
  ) {
    ws.on('message', (data, isBinary) => {
      let f: Frame;
      try {
        f = decodeFrame(isBinary ? (data as Buffer) : data.toString(), encoding);
      } catch {
        // Still an answer (the assertions after the run fail on any): counted, so the batch ends.
        tally.undecodable++;
        this.answered++;
        this.waiter?.();
        return;
      }
      if (f.id === 0 && f.body.case !== 'error') return; // a push
      this.answered++;
      const code = f.body.case === 'error' ? f.body.value.code : 'ok';
      tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
      this.waiter?.();
    });
    ws.on('close', (code) => {
      this.closed = code;
      tally.closes.set(code, (tally.closes.get(code) ?? 0) + 1);
      this.waiter?.();
    });
  }

  static async open(t: TestNode, creds: Creds, encoding: Encoding, tally: Tally): Promise<LaneSocket> {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`, offeredSubprotocols(encoding), {
      headers: { authorization: `Bearer ${creds.token}` },
    });
    const s = new LaneSocket(ws, encoding, tally);
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    tally.connections++;
    return s;
  }

  /** Sends a batch and waits until every frame of it was answered or the node closed the socket. */
  async batch(frames: Fuzzed[], seed: number): Promise<void> {
    // An ack with id 0 is the one frame the protocol leaves unanswered.
    const want = this.answered + frames.filter((f) => !silentAck(f, this.encoding)).length;
    for (const f of frames) this.ws.send(f.data, { binary: f.binary });
    this.tally.sent += frames.length;
    const deadline = Date.now() + 30_000;
    while (this.answered < want && this.closed === undefined) {
      if (Date.now() > deadline) {
        throw new Error(`batch with seed ${seed}: ${want - this.answered} frames were never answered`);
      }
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    this.waiter = undefined;
  }
}

/**
 * V8's full collection, also when the test process was started without --expose-gc (the
 * test runner's): measured without it, the memory after the run still holds its garbage,
 * 50-160 MiB of RSS from one run to the next.
 */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('frame fuzzing over real sockets', () => {
  let t: TestNode;
  const lanes: Array<{ creds: Creds; encoding: Encoding; chatId: string }> = [];

  before(async () => {
    t = await startNode({ maxFrameBytes: MAX_FRAME });
    const partner = await register(t);
    for (let i = 0; i < LANES; i++) {
      const creds = await register(t);
      const c = await RawClient.connect(t, creds);
      const chatId = await createGroup(c, [partner.userId], `lane ${i}`);
      await c.close();
      lanes.push({ creds, encoding: i % 2 === 0 ? 'json' : 'proto', chatId });
    }
  });
  after(() => t.stop());

  it(`answers each of ${TARGET_FRAMES} fuzzed frames once, stays small and keeps serving`, async (ctx) => {
    const tally: Tally = {
      answered: 0,
      undecodable: 0,
      sent: 0,
      connections: 0,
      closes: new Map(),
      codes: new Map(),
    };
    // Built and warmed before the baseline: the generators' own caches are not the node's memory.
    const arbs = lanes.map((lane) =>
      frameArbitrary(lane.encoding, templates(lane.chatId, lane.creds.userId, lane.creds.deviceId)),
    );
    for (const arb of arbs) fc.sample(arb, { numRuns: 1000, seed: SEED });
    const gc = fullCollection();
    gc();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    let batchNo = 0;
    await Promise.all(
      lanes.map(async (lane, n) => {
        const arb = arbs[n]!;
        while (tally.answered < TARGET_FRAMES) {
          const sock = await LaneSocket.open(t, lane.creds, lane.encoding, tally);
          while (sock.closed === undefined && tally.answered < TARGET_FRAMES) {
            const seed = SEED + n * 1_000_000 + batchNo++;
            const before = sock.answered;
            await sock.batch(fc.sample(arb, { numRuns: BATCH, seed }), seed);
            tally.answered += sock.answered - before;
          }
          if (sock.closed === undefined) sock.ws.close();
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2500)); // closed sockets are cut off after 2 s
    gc();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;
    ctx.diagnostic(
      `${tally.answered} answered of ${tally.sent} sent in ${seconds.toFixed(1)} s on ${tally.connections} connections; ` +
        `closes ${JSON.stringify([...tally.closes])}; answers ${JSON.stringify([...tally.codes])}; ` +
        `rss ${Math.round(rssBefore / 2 ** 20)} -> ${Math.round(rssAfter / 2 ** 20)} MiB, ` +
        `heap ${Math.round(heapBefore / 2 ** 20)} -> ${Math.round(heapAfter / 2 ** 20)} MiB`,
    );
    assert.ok(tally.answered >= TARGET_FRAMES);
    assert.equal(tally.undecodable, 0, 'every frame the node sent decodes');
    assert.equal(tally.codes.get('INTERNAL') ?? 0, 0, 'no fuzzed frame makes the node fail');
    assert.ok(
      (tally.closes.get(CloseCodes.POLICY) ?? 0) > 0,
      'connections with too many bad frames were closed',
    );
    assert.ok((tally.codes.get('ok') ?? 0) > 0, 'valid frames among them were served');
    assert.ok(rssAfter - rssBefore < 150 * 2 ** 20, 'memory stays bounded');
    // After a full collection the live heap is measured exactly: nothing of the closed connections stays.
    assert.ok(heapAfter - heapBefore < 50 * 2 ** 20, 'the heap holds nothing of the run');

    // The node still serves: a message sent now is delivered.
    const alice = await register(t);
    const bob = await register(t);
    const a = await RawClient.connect(t, alice, { encoding: 'proto' });
    const b = await RawClient.connect(t, bob);
    const chatId = await createGroup(a, [bob.userId], 'after');
    await a.call({ case: 'send', value: { chatId, clientMessageId: 'after', payload: text('still here') } });
    const [m] = await b.waitForMessages(1, chatId);
    assert.equal(m!.clientMessageId, 'after');
    await Promise.all([a.close(), b.close()]);
  });
});
