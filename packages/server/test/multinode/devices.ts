/**
 * The devices of a multi-node run. A device is one ParleyClient at a time on some node; it
 * moves to another node (its own died) as a real app would: the old client is closed, a new
 * one opens with the same credentials and local store (so SDK dedupe carries over), and
 * every send not yet acked is sent again with its clientMessageId. Each device records what
 * it sent, what was acked and what its app was handed.
 */
import {
  ChatKind,
  type Credentials,
  createLinkCode,
  linkDevice,
  MemoryLocalStore,
  ParleyClient,
  type ReceivedMessage,
} from '@parley/sdk';
import { nodeWebSocketFactory } from '@parley/sdk/node';
import { nextPhone } from '../harness.js';
import { registerViaLog } from '../register-via-log.js';
import type { NodeProcess } from './processes.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const backoff = { initialMs: 20, maxMs: 250 };
const MAX_RETRIES = 20;

/** One message a device sent, by clientMessageId. */
export interface SendRecord {
  readonly clientMessageId: string;
  readonly chatId: string;
  acked: boolean;
  /** The seq in the ack (0 from a node that acks before committing). */
  seq: number;
  /** The client the latest attempt went to (an older client's failure is not final). */
  via: ParleyClient | undefined;
  /** The final failure, if the latest attempt was refused. */
  error: Error | undefined;
  /** Attempts sent again after a retryable refusal (UNAVAILABLE, RATE_LIMITED...). */
  retries: number;
  /** Resolves at the first ack, whichever attempt it answers. */
  readonly ackedNow: Promise<void>;
  /** The node whose ack counted (the first one). */
  ackedBy: string | undefined;
  markAcked(seq: number, node: string): void;
}

/** What the app of one device was handed for one (chat, seq). */
export interface Seen {
  /** `<sender device>/<clientMessageId>` as the message says. */
  identity: string;
  count: number;
}

export class Device {
  readonly records = new Map<string, SendRecord>();
  /** App deliveries by `<chatId>:<seq>`. */
  readonly seen = new Map<string, Seen>();
  /** App deliveries by message identity (a message stored twice shows up here twice). */
  readonly byIdentity = new Map<string, number>();
  /** Messages handed over at or below a seq already handed over in their chat. */
  outOfOrder = 0;
  /** Payloads that did not match the identity of their message. */
  corrupt = 0;
  moves = 0;
  /** The SDK's first few `error` events (failed acks, bad frames), for failure reports. */
  readonly errors: string[] = [];
  private readonly lastSeq = new Map<string, number>();
  private readonly clients: ParleyClient[] = [];
  private readonly store = new MemoryLocalStore();
  private client: ParleyClient;
  private next = 0;
  private closed = false;

  constructor(
    readonly name: string,
    readonly credentials: Credentials,
    public node: NodeProcess,
  ) {
    this.client = this.open(node);
  }

  get id(): string {
    return this.credentials.deviceId;
  }

  get userId(): string {
    return this.credentials.userId;
  }

  get current(): ParleyClient {
    return this.client;
  }

  /** Redeliveries the SDK removed, over every client this device has had. */
  get duplicatesRemoved(): number {
    return this.clients.reduce((n, c) => n + c.stats.duplicates, 0);
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  send(chatId: string): SendRecord {
    const clientMessageId = `${this.name}-${this.next++}`;
    let resolve!: () => void;
    const r: SendRecord = {
      clientMessageId,
      chatId,
      acked: false,
      seq: 0,
      via: undefined,
      error: undefined,
      retries: 0,
      ackedNow: new Promise<void>((res) => {
        resolve = res;
      }),
      ackedBy: undefined,
      markAcked: (seq, node) => {
        if (r.acked) return;
        r.acked = true;
        r.seq = seq;
        r.ackedBy = node;
        resolve();
      },
    };
    this.records.set(clientMessageId, r);
    this.transmit(r);
    return r;
  }

  /** Closes the client and continues on `node`, re-sending what was not acked. */
  async move(node: NodeProcess): Promise<void> {
    const old = this.client;
    this.node = node;
    this.client = this.open(node);
    this.moves++;
    await old.close(); // its unanswered sends fail now: none of them is acked
    for (const r of this.records.values()) if (!r.acked && r.via !== this.client) this.transmit(r);
    await this.client.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.clients.map((c) => c.close()));
  }

  private open(node: NodeProcess): ParleyClient {
    const client = new ParleyClient({
      credentials: { ...this.credentials, serverUrl: node.url },
      store: this.store,
      webSocketFactory: nodeWebSocketFactory,
      backoff,
    });
    client.on('message', (m) => this.handed(m));
    client.on('error', (e) => {
      if (this.errors.length < 5) this.errors.push(e.message);
    });
    this.clients.push(client);
    return client;
  }

  private transmit(r: SendRecord): void {
    const client = this.client;
    const node = this.node.id;
    r.via = client;
    r.error = undefined;
    const payload = enc.encode(`${this.id}/${r.clientMessageId}`);
    client.send(r.chatId, payload, { clientMessageId: r.clientMessageId }).then(
      (res) => r.markAcked(res.seq, node),
      (err: Error & { retryable?: boolean; retryAfterMs?: number }) => {
        // A client replaced by `move` fails its sends on close: `move` sends them again.
        if (r.via !== client || client !== this.client) return;
        if (err.retryable === true && !this.closed && r.retries < MAX_RETRIES) {
          // What a real app does with "not stored, try again": the same clientMessageId later.
          r.retries++;
          setTimeout(() => {
            if (!r.acked && r.via === client && client === this.client && !this.closed) this.transmit(r);
          }, err.retryAfterMs ?? 100);
          return;
        }
        r.error = err;
      },
    );
  }

  private handed(m: ReceivedMessage): void {
    const identity = `${m.senderDeviceId}/${m.clientMessageId}`;
    if (dec.decode(m.payload) !== identity) this.corrupt++;
    const key = `${m.chatId}:${m.seq}`;
    const seen = this.seen.get(key);
    if (seen) seen.count++;
    else this.seen.set(key, { identity, count: 1 });
    this.byIdentity.set(identity, (this.byIdentity.get(identity) ?? 0) + 1);
    const last = this.lastSeq.get(m.chatId) ?? 0;
    if (m.seq <= last) this.outOfOrder++;
    else this.lastSeq.set(m.chatId, m.seq);
  }
}

export interface Chat {
  id: string;
  /** Every device of every member (no member leaves during a run). */
  devices: Device[];
}

export interface Fleet {
  devices: Device[];
  chats: Chat[];
  chatsOf(device: Device): string[];
  close(): Promise<void>;
}

/**
 * `users` users registered on the first node, each with a linked second device; devices
 * spread round-robin over `nodes`. Chats: a group of everyone and a ring of 1:1 chats
 * (user i with user i+1), so every user has two 1:1 chats and the group.
 */
export async function setUpFleet(nodes: readonly NodeProcess[], users: number): Promise<Fleet> {
  const devices: Device[] = [];
  const fleet: Fleet = {
    devices,
    chats: [],
    chatsOf: (d) => fleet.chats.filter((c) => c.devices.includes(d)).map((c) => c.id),
    close: async () => {
      await Promise.all(devices.map((d) => d.close()));
    },
  };
  try {
    const first = nodes[0]!;
    for (let u = 0; u < users; u++) {
      const c = await registerViaLog(first.url, first.dataDir, nextPhone());
      const primary: Credentials = { serverUrl: first.url, primary: true, ...c };
      const { code } = await createLinkCode(primary);
      const second = await linkDevice(first.url, { code, deviceName: 'second' });
      devices.push(new Device(`u${u}a`, primary, nodes[(2 * u) % nodes.length]!));
      devices.push(new Device(`u${u}b`, second, nodes[(2 * u + 1) % nodes.length]!));
    }
    await Promise.all(devices.map((d) => d.connect()));
    const ofUser = (u: number) => devices.slice(2 * u, 2 * u + 2);
    const group = await devices[0]!.current.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: devices.filter((_, i) => i % 2 === 0 && i > 0).map((d) => d.userId),
      name: 'everyone',
    });
    fleet.chats.push({ id: group.id, devices: [...devices] });
    for (let u = 0; u < users && users > 1; u++) {
      const peer = (u + 1) % users;
      if (users === 2 && u === 1) break; // two users have a single 1:1 chat
      const direct = await devices[2 * u]!.current.createChat({
        kind: ChatKind.DIRECT,
        memberUserIds: [devices[2 * peer]!.userId],
      });
      fleet.chats.push({ id: direct.id, devices: [...ofUser(u), ...ofUser(peer)] });
    }
    return fleet;
  } catch (err) {
    await fleet.close();
    throw err;
  }
}
