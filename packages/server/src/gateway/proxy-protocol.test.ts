import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clientAddress, normalizeAddress, setPeer, TrustedProxies } from './client-address.js';
import { parseProxyHeader } from './proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.from([0x20 | command, (family << 4) | 1, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

const ipv4Body = Buffer.from([203, 0, 113, 7, 10, 0, 0, 1, 0x9c, 0x40, 0x1f, 0x90]);
const ipv6Body = Buffer.concat([
  Buffer.from('20010db8000000000000000000000001', 'hex'),
  Buffer.from('20010db8000000000000000000000002', 'hex'),
  Buffer.from([0x9c, 0x40, 0x1f, 0x90]),
]);
const request = Buffer.from('GET / HTTP/1.1\r\n\r\n');

describe('PROXY protocol header', () => {
  it('reads the source of v2 IPv4 and IPv6 headers and skips TLVs', () => {
    const tlv = Buffer.from([0x05, 0x00, 0x02, 0xab, 0xcd]);
    const h4 = v2(1, 1, Buffer.concat([ipv4Body, tlv]));
    assert.deepEqual(parseProxyHeader(Buffer.concat([h4, request])), {
      state: 'done',
      length: h4.length,
      source: '203.0.113.7',
    });
    const h6 = v2(1, 2, ipv6Body);
    const r6 = parseProxyHeader(h6);
    assert.equal(r6.state === 'done' && normalizeAddress(r6.source!), '2001:db8::1');
  });

  it('a LOCAL command (a health check) and UNSPEC carry no source', () => {
    assert.deepEqual(parseProxyHeader(v2(0, 0, Buffer.alloc(0))), { state: 'done', length: 16 });
    assert.deepEqual(parseProxyHeader(v2(1, 0, Buffer.alloc(0))), { state: 'done', length: 16 });
  });

  it('reads v1 lines, TCP4, TCP6 and UNKNOWN', () => {
    const line = 'PROXY TCP4 198.51.100.9 10.0.0.1 40000 8080\r\n';
    assert.deepEqual(parseProxyHeader(Buffer.from(`${line}GET /`)), {
      state: 'done',
      length: line.length,
      source: '198.51.100.9',
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::5 2001:db8::1 1 2\r\n'));
    assert.equal(six.state === 'done' && six.source, '2001:db8::5');
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { state: 'done', length: 15 });
  });

  it('refuses what can never become a valid header', () => {
    const bad = [
      request,
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'),
      Buffer.from('PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n'),
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n'),
      Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'),
      Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`),
      Buffer.concat([SIG, Buffer.from([0x11, 0x11, 0, 0])]),
      Buffer.concat([SIG, Buffer.from([0x2f, 0x11, 0, 0])]),
      v2(1, 1, ipv4Body.subarray(0, 8)),
      v2(1, 2, ipv6Body.subarray(0, 20)),
      v2(1, 9, ipv4Body),
    ];
    for (const b of bad) assert.equal(parseProxyHeader(b).state, 'invalid', b.toString('latin1'));
  });

  it('any prefix of a valid header is incomplete, never invalid', () => {
    const headers = [
      v2(1, 1, ipv4Body),
      v2(1, 2, ipv6Body),
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...headers), fc.nat(), (h, n) => {
        const cut = n % h.length;
        assert.deepEqual(parseProxyHeader(h.subarray(0, cut)), { state: 'incomplete' });
      }),
    );
  });
});

describe('client address', () => {
  it('normalizes IPv4-mapped and long-form IPv6', () => {
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeAddress('0:0:0:0:0:ffff:c000:0201'), '192.0.2.1');
    assert.equal(normalizeAddress('2001:0db8:0:0:0:0:0:1'), '2001:db8::1');
  });

  it('trusts listed addresses and ranges only', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);
    assert.ok(t.has('10.1.2.3') && t.has('::ffff:10.1.2.3') && t.has('192.0.2.1') && t.has('fd00::1'));
    assert.ok(!t.has('192.0.2.2') && !t.has('11.0.0.1') && !t.has('fe80::1') && !t.has('junk'));
  });

  it('X-Forwarded-For counts only from a trusted peer, and then its rightmost untrusted hop', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8']);
    const reqFrom = (peer: string, xff?: string) => {
      const socket = { remoteAddress: peer } as never;
      setPeer(socket, peer, trusted);
      return {
        httpVersion: '1.1',
        socket,
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      } as never;
    };
    assert.equal(clientAddress(reqFrom('203.0.113.1', '198.51.100.1')), '203.0.113.1');
    assert.equal(clientAddress(reqFrom('10.0.0.5', '6.6.6.6, 198.51.100.1, 10.0.0.9')), '198.51.100.1');
    assert.equal(clientAddress(reqFrom('10.0.0.5', 'garbage, 10.0.0.9')), '10.0.0.9');
    assert.equal(clientAddress(reqFrom('10.0.0.5')), '10.0.0.5');
  });
});
