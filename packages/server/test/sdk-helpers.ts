/**
 * Helpers for the SDK-against-a-real-node tests (sdk-*.test.ts): users registered over
 * HTTP, a ParleyClient whose events are recorded, polling with a deadline, and a node in a
 * child process that can be crashed, frozen or stopped and started again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClientOptions,
  type Credentials,
  type DisconnectInfo,
  ParleyClient,
  type ReceivedChatUpdate,
  type ReceivedMessage,
  requestCode,
  verifyCode,
} from '@parley/sdk';
import { nodeWebSocketFactory } from '@parley/sdk/node';
import type { DeviceId } from '../src/ports/types.js';
import { freePort, kill, startChild } from './crash/crash-run.js';
import { nextPhone, type TestNode } from './harness.js';
import { registerViaLog } from './register-via-log.js';

/** Fast retries so reconnects happen within a few ms on loopback. */
const fastBackoff = { initialMs: 5, maxMs: 50 };

/** Registers a new user (primary device) over HTTP on an in-process node. */
export async function newUser(t: Pick<TestNode, 'url' | 'sms'>): Promise<Credentials> {
  const phone = nextPhone();
  await requestCode(t.url, phone);
  return verifyCode(t.url, { phone, code: t.sms.codes.get(phone)!, deviceName: 'sdk-test' });
}

/** A ParleyClient plus everything it emitted, in order. */
export interface Watched {
  client: ParleyClient;
  messages: ReceivedMessage[];
  updates: ReceivedChatUpdate[];
  disconnects: DisconnectInfo[];
  errors: Error[];
  connects: number;
}

const open = new Set<ParleyClient>();

/** Closes every client made by `watch` (run it after each test, so none keeps reconnecting). */
export async function closeWatched(): Promise<void> {
  const clients = [...open];
  open.clear();
  await Promise.all(clients.map((c) => c.close()));
}

export function watch(credentials: Credentials, options: Partial<ClientOptions> = {}): Watched {
  const client = new ParleyClient({
    credentials,
    webSocketFactory: nodeWebSocketFactory,
    backoff: fastBackoff,
    ...options,
  });
  open.add(client);
  const w: Watched = { client, messages: [], updates: [], disconnects: [], errors: [], connects: 0 };
  client.on('connected', () => {
    w.connects++;
  });
  client.on('message', (m) => {
    w.messages.push(m);
  });
  client.on('chatUpdate', (u) => {
    w.updates.push(u);
  });
  client.on('disconnected', (d) => {
    w.disconnects.push(d);
  });
  client.on('error', (e) => {
    w.errors.push(e);
  });
  return w;
}

/** Polls `check` until it holds; fails after `timeoutMs` (no fixed sleeps in assertions). */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Unacked deliveries the node holds for a connected device (undefined when not connected). */
export function unacked(t: TestNode, deviceId: string): number | undefined {
  return t.node.hub.get(deviceId as DeviceId)?.session.unackedCount;
}

export { text, untext } from './harness.js';

/**
 * A free port below the kernel's ephemeral range. While the node is down its port is free;
 * a port from the ephemeral range could meanwhile be handed to another test's node (port 0
 * and freePort() draw from that range) or to an outgoing connection.
 */
async function restartPort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {}
  for (let i = 0; i < 20 && low > 20_000; i++) {
    const port = 20_000 + Math.floor(Math.random() * (low - 20_000));
    if (await isFree(port)) return port;
  }
  return freePort();
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A real node in a child process on a fixed port and data dir, so clients reconnect to the
 * same URL and find their data after a restart. Signals give the failure modes: SIGTERM
 * (graceful stop, sockets close with 1001), SIGKILL (crash: sockets reset, 1006) and
 * SIGSTOP/SIGCONT (a node that hangs: sockets stay open, nothing is read or answered).
 */
export class ChildNode {
  private constructor(
    private child: ChildProcess | undefined,
    readonly dataDir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<ChildNode> {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-sdk-'));
    const port = await restartPort();
    return new ChildNode(await startChild(dataDir, port), dataDir, port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Registers a new user; the dev-mode node writes the SMS code to its log file. */
  async newUser(): Promise<Credentials> {
    const c = await registerViaLog(this.url, this.dataDir, nextPhone());
    return { serverUrl: this.url, primary: true, ...c };
  }

  /** SIGSTOP, then waits until the process is really stopped (Linux: /proc state T). */
  async freeze(): Promise<void> {
    const pid = this.running().pid!;
    this.running().kill('SIGSTOP');
    const state = () => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      } catch {
        return 'T'; // no procfs (not Linux): trust the signal
      }
    };
    await until(() => state() === 'T', 'the node process to stop');
  }

  thaw(): void {
    this.running().kill('SIGCONT');
  }

  /** SIGKILL: the kernel resets every socket (a frozen node is killed as well). */
  async crash(): Promise<void> {
    const child = this.running();
    this.child = undefined;
    await kill(child);
  }

  /** SIGTERM: the node's graceful stop (sockets close with 1001), then it exits. */
  async terminate(): Promise<void> {
    const child = this.running();
    this.child = undefined;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  async restart(): Promise<void> {
    if (this.child) throw new Error('the node is still running');
    this.child = await startChild(this.dataDir, this.port);
  }

  async dispose(): Promise<void> {
    if (this.child) await kill(this.child);
    this.child = undefined;
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private running(): ChildProcess {
    if (!this.child) throw new Error('the node is not running');
    return this.child;
  }
}
