/**
 * The client's address, the key of every per-IP limit. It is the TCP peer, or the source a
 * trusted balancer gave in its PROXY header; `X-Forwarded-For` counts only when that address is
 * itself a trusted proxy, and then the rightmost hop that is not a trusted proxy is the client.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, isIPv4 } from 'node:net';
import type { Duplex } from 'node:stream';

/** IPv4 as dotted quad, IPv6 in canonical form, IPv4-mapped IPv6 as IPv4; anything else unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!hex) return canonical;
  const hi = Number.parseInt(hex[1]!, 16);
  const lo = Number.parseInt(hex[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The `trustedProxies` setting: addresses and CIDR ranges (IPv4 and IPv6). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(normalizeAddress(address), family);
      else this.list.addSubnet(normalizeAddress(address), Number(bits), family);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const a = normalizeAddress(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

interface Peer {
  address: string;
  trusted: TrustedProxies;
}

// Per socket, so several nodes in one process never share entries; gone with the socket.
const peers = new WeakMap<Duplex, Peer>();

/** Records the connection's client address (the PROXY source, or the TCP peer) at accept time. */
export function setPeer(socket: Duplex, address: string, trusted: TrustedProxies): void {
  peers.set(socket, { address: normalizeAddress(address), trusted });
}

/** The client address of a request, or of a connection when given its socket. */
export function clientAddress(from: IncomingMessage | Duplex): string {
  const req = 'httpVersion' in from ? (from as IncomingMessage) : undefined;
  const socket = req ? req.socket : (from as Duplex);
  const peer = peers.get(socket);
  const direct =
    peer?.address ?? normalizeAddress((socket as { remoteAddress?: string }).remoteAddress ?? 'unknown');
  const forwarded = req?.headers['x-forwarded-for'];
  if (!peer || !forwarded || !peer.trusted.has(direct)) return direct;
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',');
  let nearest = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!.trim());
    // A hop that is not an address was not written by a trusted proxy: stop at the last good one.
    if (isIP(hop) === 0) return nearest;
    if (!peer.trusted.has(hop)) return hop;
    nearest = hop;
  }
  return nearest;
}
