/**
 * A slow line in front of a test node: a TCP relay on loopback that passes what the node sends
 * at most `bytesPerSecond` per connection, and counts it, so a test can kill a client midway
 * through a download and tell how much a later run fetched. Requests and WebSocket frames go
 * through unchanged (only slowed), so a profile whose server URL is the relay's works as usual.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface SlowLink {
  /** `http://127.0.0.1:<port>`: a profile's server URL. */
  url: string;
  /** Bytes relayed from the node to its clients so far. */
  bytesDown(): number;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

export async function startSlowLink(nodeUrl: string, bytesPerSecond: number): Promise<SlowLink> {
  const node = new URL(nodeUrl);
  const sockets = new Set<Socket>();
  let down = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(node.port), node.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    // A reset on either side resets the other; an orderly end is passed on after the data.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
      client.write(chunk);
      // Nothing more is read from the node until this chunk's time at the rate has passed.
      upstream.pause();
      setTimeout(() => upstream.resume(), (chunk.length / bytesPerSecond) * 1000);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    bytesDown: () => down,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
