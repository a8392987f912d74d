/**
 * Keeps user-registered push URLs (webhooks, Web Push endpoints) off the node's own network:
 * loopback, private, link-local, carrier-grade NAT, multicast and reserved addresses are refused.
 * The check runs on the address actually connected to (a name lookup of our own), so a name that
 * resolves to a private address, or changes between check and connect, is refused too.
 */
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** True for an address a push URL may not reach. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(address, 'ipv6');
}

function refused(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('the push URL resolves to a private address');
  err.code = 'EPRIVATEADDRESS';
  return err;
}

/** A name lookup that fails with EPRIVATEADDRESS when any address of the name is private. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, '', 4);
      return;
    }
    const list = addresses as unknown as { address: string; family: number }[];
    if (list.length === 0 || list.some((a) => isPrivateAddress(a.address))) {
      callback(refused(), '', 4);
      return;
    }
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    } else callback(null, list[0]!.address, list[0]!.family);
  });
};

/** Whether a URL's host is an IP literal that may not be reached (a lookup never runs for those). */
export function urlNamesPrivateAddress(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return isIP(host) !== 0 && isPrivateAddress(host);
}
