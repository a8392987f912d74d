/**
 * The PROXY protocol header (v2 binary and v1 text, haproxy.org/download/2.9/doc/proxy-protocol.txt)
 * a TCP load balancer sends before the client's bytes. Parsed from the bytes received so far:
 * `incomplete` until the whole header is there; a header that can never become valid is `invalid`.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type ProxyHeader =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** `source` is absent for LOCAL (the balancer's own health check) and UNKNOWN/UNSPEC. */
  | { state: 'done'; length: number; source?: string };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line the specification allows, CRLF included. */
const V1_MAX = 107;

const INCOMPLETE: ProxyHeader = { state: 'incomplete' };
const invalid = (reason: string): ProxyHeader => ({ state: 'invalid', reason });

/** A prefix of `signature` (so far) or the whole of it: the bytes may still become this header. */
function startsLike(buf: Buffer, signature: Buffer): boolean {
  const n = Math.min(buf.length, signature.length);
  return buf.subarray(0, n).equals(signature.subarray(0, n));
}

export function parseProxyHeader(buf: Buffer): ProxyHeader {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < 16 ? INCOMPLETE : parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return invalid('no PROXY protocol header');
}

function parseV2(buf: Buffer): ProxyHeader {
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) return invalid('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('unknown PROXY v2 command');
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return INCOMPLETE;
  // LOCAL: the balancer speaks for itself (health checks); the connection's own peer is the client.
  if (command === 0) return { state: 'done', length };
  const family = buf[13]! >> 4;
  const body = buf.subarray(16, length);
  if (family === 1) {
    if (body.length < 12) return invalid('PROXY v2 IPv4 addresses are truncated');
    return { state: 'done', length, source: [...body.subarray(0, 4)].join('.') };
  }
  if (family === 2) {
    if (body.length < 36) return invalid('PROXY v2 IPv6 addresses are truncated');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    return { state: 'done', length, source: groups.join(':') };
  }
  if (family === 0 || family === 3) return { state: 'done', length };
  return invalid('unknown PROXY v2 address family');
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.indexOf('\r\n');
  if (end < 0) return buf.length >= V1_MAX ? invalid('PROXY v1 line too long') : INCOMPLETE;
  if (end + 2 > V1_MAX) return invalid('PROXY v1 line too long');
  const length = end + 2;
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  if (parts[1] === 'UNKNOWN') return { state: 'done', length };
  if (parts.length !== 6) return invalid('PROXY v1 line has the wrong number of fields');
  const [, family, source, destination, sourcePort, destinationPort] = parts as [string, ...string[]];
  const isIp = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (!isIp) return invalid('PROXY v1 family is not TCP4, TCP6 or UNKNOWN');
  if (!isIp(source!) || !isIp(destination!)) return invalid('PROXY v1 address is not valid');
  if (![sourcePort, destinationPort].every((p) => /^\d{1,5}$/.test(p!) && Number(p) <= 65535)) {
    return invalid('PROXY v1 port is not valid');
  }
  return { state: 'done', length, source: source! };
}
