import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeCallContent, encodeCallContent } from './content.js';

it('call content round-trips and names its call', () => {
  const bytes = encodeCallContent({ type: 'offer', callId: 'call-1234', sdp: 'v=0' });
  assert.deepEqual(decodeCallContent(bytes, 'offer', 'call-1234'), {
    v: 1,
    type: 'offer',
    callId: 'call-1234',
    sdp: 'v=0',
  });
  const cand = encodeCallContent({
    type: 'candidate',
    callId: 'call-1234',
    candidate: { candidate: 'candidate:1 1 udp' },
  });
  assert.equal(decodeCallContent(cand, 'candidate', 'call-1234').candidate.candidate, 'candidate:1 1 udp');
});

it('refuses content of another call, of another type, or not call content at all', () => {
  const offer = encodeCallContent({ type: 'offer', callId: 'call-1234', sdp: 'v=0' });
  const refused = (f: () => unknown) =>
    assert.throws(f, (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
  refused(() => decodeCallContent(offer, 'offer', 'call-9999'));
  refused(() => decodeCallContent(offer, 'answer', 'call-1234'));
  refused(() => decodeCallContent(new TextEncoder().encode('not json'), 'offer', 'call-1234'));
  refused(() => decodeCallContent(new Uint8Array([0xff, 0xfe]), 'offer', 'call-1234'));
  refused(() =>
    decodeCallContent(new TextEncoder().encode('{"v":1,"type":"candidate","callId":"c"}'), 'candidate', 'c'),
  );
});
