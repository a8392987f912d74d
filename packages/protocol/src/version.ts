/** Protocol versions: the server accepts the current and the previous one. */
export const PROTOCOL_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2];

export type Encoding = 'proto' | 'json';

/** WebSocket subprotocol name for a version and encoding, e.g. `parley.v1.proto`. */
export function subprotocolName(version: number, encoding: Encoding): string {
  return `parley.v${version}.${encoding}`;
}

/** Parses a subprotocol name; undefined when it is not a Parley one. */
export function parseSubprotocol(name: string): { version: number; encoding: Encoding } | undefined {
  const m = /^parley\.v(\d{1,4})\.(proto|json)$/.exec(name.trim());
  if (!m) return undefined;
  return { version: Number(m[1]), encoding: m[2] as Encoding };
}

/** Subprotocols a client offers, most preferred first. */
export function offeredSubprotocols(encoding: Encoding): string[] {
  return [...SUPPORTED_VERSIONS].sort((a, b) => b - a).map((v) => subprotocolName(v, encoding));
}
