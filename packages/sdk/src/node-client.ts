/**
 * ParleyClient as the `@parley/sdk` entry exports it: without a webSocketFactory it connects
 * with Node's `ws` (an Authorization header), loaded only when first needed. It adds no
 * member, so a client typed by either entry is assignable to the other.
 */
import { ParleyClient as BaseClient } from './client.js';
import type { ClientOptions } from './options.js';

export class ParleyClient extends BaseClient {
  constructor(options: ClientOptions) {
    super(options);
    this.loadDefaultWebSocketFactory = async () => (await import('./node/ws-socket.js')).nodeWebSocketFactory;
  }
}
