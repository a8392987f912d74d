/**
 * Test harness: real nodes on port 0 with a temp data dir, a capturing SMS provider, and a
 * raw WebSocket client speaking either encoding. Used by the integration tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChatKind,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  type Message,
  makeFrame,
  offeredSubprotocols,
} from '@parley/protocol';
import WebSocket from 'ws';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { loadConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { TEST_LIMITS } from '../src/config/test-limits.js';
import { createLogger } from '../src/log.js';
import { createNode, type NodeOverrides, type ParleyNode } from '../src/node.js';
import type { SmsProvider } from '../src/ports/sms.js';
import type { Store } from '../src/ports/store.js';

export class CapturingSms implements SmsProvider {
  readonly codes = new Map<string, string>();
  async sendCode(phone: string, code: string): Promise<void> {
    this.codes.set(phone, code);
  }
}

export interface TestNode {
  node: ParleyNode;
  sms: CapturingSms;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export { TEST_LIMITS };

export async function startNode(config: ConfigInput = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = (config.dataDir as string | undefined) ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  const sms = new CapturingSms();
  const cfg = loadConfig({
    overrides: {
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      dev: false,
      // No load balancer watches a test node's /readyz: stop at once.
      shutdownDrainMs: 0,
      // Every test client is 127.0.0.1 and many tests send, create and register quickly: the
      // abuse limits are raised here, and each limit's own tests set it (test/limits.test.ts).
      ...TEST_LIMITS,
      ...config,
      dataDir,
    },
  });
  const node = createNode(cfg, { sms, log: createLogger(cfg.logLevel), ...overrides });
  const port = await node.start();
  return {
    node,
    sms,
    dataDir,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await node.stop();
      if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Nodes in one process sharing one SQLite store (in `dir`) and an in-process bus, as a
 * scaled-out deployment shares PostgreSQL and Redis. `stop` stops them, then closes the store.
 */
export async function startCluster(
  dir: string,
  nodeIds: readonly string[],
  config: ConfigInput = {},
): Promise<{ nodes: TestNode[]; network: LocalBusNetwork; stop(): Promise<void> }> {
  const shared = new SqliteStore({ path: join(dir, 'parley.db'), synchronous: 'FULL' });
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const nodes: TestNode[] = [];
  for (const id of nodeIds) {
    nodes.push(
      await startNode(
        // Nodes sharing a store share the key of its code digests.
        { dataDir: mkdtempSync(join(dir, `${id}-`)), bus: 'local', serverSecret: CLUSTER_SECRET, ...config },
        { store, bus: new LocalBus({ nodeId: id, network }) },
      ),
    );
  }
  return {
    nodes,
    network,
    async stop() {
      for (const n of nodes) await n.node.stop();
      await shared.close();
    },
  };
}

const CLUSTER_SECRET = 'cluster-test-secret-0123456789abcdef';

/**
 * One store for several in-process nodes: a node's stop leaves it open (the others still use
 * it); the test closes the store itself once, at the end.
 */
export function sharedByNodes(store: Store): Store {
  return new Proxy(store, {
    get: (target, prop, receiver) =>
      prop === 'close' ? async () => {} : Reflect.get(target, prop, receiver),
  });
}

export async function http(url: string, method: string, body?: unknown, token?: string) {
  const res = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface Creds {
  userId: string;
  deviceId: string;
  token: string;
}

let phoneCounter = 0;
/** A fresh valid phone number (US 415 area, 555-01xx style numbers are invalid, so use 2xx). */
export function nextPhone(): string {
  phoneCounter++;
  return `+1415${String(2000000 + phoneCounter).padStart(7, '0')}`;
}

export async function register(t: TestNode, phone = nextPhone()): Promise<Creds & { phone: string }> {
  const r1 = await http(`${t.url}/v1/auth/code`, 'POST', { phone });
  if (r1.status !== 200) throw new Error(`code request failed: ${JSON.stringify(r1.body)}`);
  const code = t.sms.codes.get(phone)!;
  const r2 = await http(`${t.url}/v1/auth/verify`, 'POST', { phone, code });
  if (r2.status !== 200) throw new Error(`verify failed: ${JSON.stringify(r2.body)}`);
  return { ...r2.body, phone };
}

export async function linkDevice(t: TestNode, primary: Creds): Promise<Creds> {
  const r1 = await http(`${t.url}/v1/devices/link-code`, 'POST', {}, primary.token);
  const r2 = await http(`${t.url}/v1/devices/link`, 'POST', { code: r1.body.code });
  if (r2.status !== 200) throw new Error(`link failed: ${JSON.stringify(r2.body)}`);
  return r2.body;
}

/** A protocol-level client: sends frames, collects everything the server pushes. */
export class RawClient {
  readonly frames: Frame[] = [];
  readonly messages: Message[] = [];
  closeCode: number | undefined;
  private nextId = 1;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;

  private constructor(
    readonly ws: WebSocket,
    readonly encoding: Encoding,
    readonly autoAck: boolean,
  ) {
    this.closed = new Promise((res) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        this.wake();
        res(code);
      });
    });
    ws.on('message', (data, isBinary) => {
      const frame = decodeFrame(isBinary ? (data as Buffer) : data.toString(), encoding);
      this.frames.push(frame);
      if (frame.body.case === 'deliver') {
        this.messages.push(...frame.body.value.messages);
        if (this.autoAck && frame.body.value.messages.length) this.ackMessages(frame.body.value.messages);
      }
      this.wake();
    });
  }

  static async connect(
    t: { url: string },
    creds: Creds,
    opts: { encoding?: Encoding; autoAck?: boolean; protocols?: string[] } = {},
  ): Promise<RawClient> {
    const encoding = opts.encoding ?? 'json';
    const ws = new WebSocket(
      `${t.url.replace('http', 'ws')}/v1/ws`,
      opts.protocols ?? offeredSubprotocols(encoding),
      {
        headers: { authorization: `Bearer ${creds.token}` },
      },
    );
    const c = new RawClient(ws, encoding, opts.autoAck ?? true);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
      ws.once('unexpected-response', (_req, r) => rej(new Error(`upgrade refused: ${r.statusCode}`)));
    });
    await c.waitFor((f) => f.body.case === 'welcome');
    return c;
  }

  ackMessages(messages: readonly Message[]): void {
    const top = new Map<string, bigint>();
    for (const m of messages) if ((top.get(m.chatId) ?? -1n) < m.seq) top.set(m.chatId, m.seq);
    this.sendFrame({
      id: 0,
      body: { case: 'ack', value: { cursors: [...top].map(([chatId, seq]) => ({ chatId, seq })) } },
    });
  }

  sendFrame(init: FrameInit): void {
    this.ws.send(encodeFrame(makeFrame(init), this.encoding), { binary: this.encoding === 'proto' });
  }

  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** Sends a request and resolves with its answer frame (result or error). */
  async request(body: FrameInit['body']): Promise<Frame> {
    const id = this.nextId++;
    this.sendFrame({ id, body });
    return this.waitFor((f) => f.id === id);
  }

  /** Like request, but throws on an error answer and returns the result body value. */
  async call<T = unknown>(body: FrameInit['body']): Promise<T> {
    const f = await this.request(body);
    if (f.body.case === 'error') throw new Error(`${f.body.value.code}: ${f.body.value.message}`);
    return f.body.value as T;
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    return new Promise((res, rej) => {
      let seen = 0;
      const check = () => {
        for (; seen < this.frames.length; seen++) {
          if (pred(this.frames[seen]!)) {
            cleanup();
            res(this.frames[seen]!);
            return true;
          }
        }
        if (this.closeCode !== undefined) {
          cleanup();
          rej(new Error(`socket closed (${this.closeCode}) while waiting`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new Error('timed out waiting for a frame'));
      }, timeoutMs);
      const waiter = () => {
        if (!check()) this.waiters.push(waiter);
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  /** Waits until `n` payload messages of `chatId` were received. */
  async waitForMessages(n: number, chatId?: string, timeoutMs = 10_000): Promise<Message[]> {
    const pick = () =>
      this.messages.filter((m) => m.body.case === 'payload' && (chatId === undefined || m.chatId === chatId));
    const deadline = Date.now() + timeoutMs;
    while (pick().length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${pick().length}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return pick();
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

export const text = (s: string) => new TextEncoder().encode(s);
export const untext = (b: Uint8Array) => new TextDecoder().decode(b);

/** The error code of an answer frame, or its body case when the request succeeded. */
export const answerCode = (f: Frame): string =>
  f.body.case === 'error' ? f.body.value.code : String(f.body.case);

/** Creates a group with `c`'s user as creator and `members`; returns the chat id. */
export async function createGroup(c: RawClient, members: string[], name = 'g'): Promise<string> {
  const r = await c.call<{ chat: { id: string } }>({
    case: 'createChat',
    value: { kind: ChatKind.GROUP, memberUserIds: members, name },
  });
  return r.chat.id;
}

/** A WebSocket upgrade the node refuses: its HTTP status and error code. */
export function refusedUpgrade(url: string, token: string): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws`, ['parley.v2.json', 'parley.v1.json'], {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(body).error.code }));
    });
    ws.once('error', () => {});
  });
}
