import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import fc from 'fast-check';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameCache, wsDataFrame } from './ws-frame.js';

/** The lengths where the header changes size, and their neighbours. */
const lengthArb = fc.oneof(fc.constantFrom(0, 1, 125, 126, 127, 65_535, 65_536, 65_537), fc.nat(70_000));

/** ws's framing, which its type declarations leave out. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** What `ws` itself writes for a server's final, unmasked, uncompressed data frame. */
function wsOwn(payload: Uint8Array | string, binary: boolean): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const parts = Sender.frame(data, {
    fin: true,
    opcode: binary ? 2 : 1,
    mask: false,
    readOnly: false,
    rsv1: false,
  });
  return Buffer.concat(parts);
}

it('frames bytes exactly as ws does, at every header size', () => {
  fc.assert(
    fc.property(lengthArb, fc.boolean(), (n, binary) => {
      const payload = new Uint8Array(n).map((_, i) => (i * 31) & 0xff);
      assert.deepEqual(wsDataFrame(payload, binary), wsOwn(payload, binary));
    }),
    { numRuns: 200 },
  );
});

it('frames a string as its UTF-8 bytes, by byte length and not by characters', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.boolean(), (s, binary) => {
      assert.deepEqual(wsDataFrame(s, binary), wsOwn(s, binary));
    }),
  );
  // 42 three-byte characters: 126 bytes, the 16-bit length's first size.
  const s = '€'.repeat(42);
  assert.equal(wsDataFrame(s, false)[1], 126);
  assert.deepEqual(wsDataFrame(s, false), wsOwn(s, false));
});

it('keeps the last frame for the same payload, and frames a new one for another', () => {
  const cache = new FrameCache();
  const a = new Uint8Array([1, 2, 3]);
  const first = cache.get(a, true);
  assert.equal(cache.get(a, true), first);
  assert.notEqual(cache.get(a, false), first);
  assert.deepEqual(cache.get(new Uint8Array([1, 2, 3]), true), first);
  assert.equal(cache.get('x', false)[0], 0x81);
});

it('a client reads frames written to the socket between frames ws wrote', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  const sizes = [0, 125, 126, 65_535, 65_536, 100_000];
  try {
    wss.on('connection', (ws) => {
      const socket = (ws as unknown as { _socket: { write(b: Uint8Array): boolean } })._socket;
      ws.send('from ws');
      for (const n of sizes) socket.write(wsDataFrame(new Uint8Array(n).fill(n & 0xff), true));
      socket.write(wsDataFrame('text €', false));
      ws.send(new Uint8Array([9]));
    });
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const got: Array<{ data: Buffer; binary: boolean }> = [];
    const all = new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (data: Buffer, binary) => {
        got.push({ data, binary });
        if (got.length === sizes.length + 3) resolve();
      });
    });
    await all;
    client.close();
    assert.deepEqual(got[0], { data: Buffer.from('from ws'), binary: false });
    sizes.forEach((n, i) => {
      assert.equal(got[i + 1]!.binary, true);
      assert.deepEqual(got[i + 1]!.data, Buffer.alloc(n, n & 0xff));
    });
    assert.deepEqual(got[sizes.length + 1], { data: Buffer.from('text €'), binary: false });
    assert.deepEqual(got[sizes.length + 2], { data: Buffer.from([9]), binary: true });
  } finally {
    wss.close();
  }
});
