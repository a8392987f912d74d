/**
 * Parley nodes of a multi-node run: `parley serve` in child processes on fixed ports, so
 * they can restart in place. Every child (nodes and redis-servers) is killed when the test
 * process exits, whatever happened, so no run leaves a process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The same entry point as `parley serve` (serveMain), without needing the CLI package built. */
const serveScript = new URL('../crash/child.js', import.meta.url).pathname;

// A test that times out or throws still exits the process: take its children with it.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `done` every 50 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A free port below the kernel's ephemeral range: while a node or redis-server is down its
 * port stays free, since port 0 and outgoing connections draw from the ephemeral range.
 */
export async function stablePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {}
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * Math.max(1000, low - 20_000));
    if (await bindable(port)) return port;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Kills the child when the test process exits. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export interface NodeSettings {
  nodeId: string;
  storeUrl: string;
  busUrl: string;
  /** Test-only: ack sends before they are committed (the negative control). */
  unsafe: boolean;
  /** Media in a shared S3 bucket (credentials from the inherited AWS_* variables). */
  media?: { url: string; endpoint: string };
}

/** One `parley serve` process; keeps the tail of its output for failure reports. */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private output = '';
  /** How often the node logged that its bus came back after being down. */
  busRecoveries = 0;

  private constructor(
    readonly settings: NodeSettings,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(settings: NodeSettings): Promise<NodeProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), `parley-mn-${settings.nodeId}-`));
    const node = new NodeProcess(settings, await stablePort(), dataDir);
    await node.start();
    return node;
  }

  get id(): string {
    return this.settings.nodeId;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process on its port and data dir; resolves once it listens. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.id} is already running`);
    const s = this.settings;
    const args = [
      ...['--port', String(this.port), '--host', '127.0.0.1', '--data-dir', this.dataDir],
      ...['--dev', 'true', '--log-level', 'warn', '--node-id', s.nodeId],
      ...['--store', s.storeUrl, '--bus', s.busUrl, '--unsafe-ack-before-commit', String(s.unsafe)],
      // Every node of the cluster digests codes with the same key.
      ...['--server-secret', 'multinode-test-secret-0123456789abcdef'],
      ...(s.media
        ? ['--media', s.media.url, '--s3-endpoint', s.media.endpoint, '--s3-force-path-style', 'true']
        : []),
      // Rate limits are not under test: many registrations and reconnects from one address.
      ...['--code-requests-per-hour', '10000', '--auth-attempts-per-minute', '1000000'],
      ...['--code-requests-per-ip-per-hour', '1000000', '--registrations-per-ip-per-day', '1000000'],
      ...['--code-requests-per-prefix-per-hour', '1000000', '--code-requests-per-day-total', '1000000'],
      ...['--sends-per-minute', '1000000', '--groups-per-hour', '1000000'],
      ...['--media-uploads-per-hour', '1000000', '--media-bytes-per-hour', String(1024 ** 4)],
      ...['--shutdown-drain-ms', '1000'],
    ];
    const child = spawn(process.execPath, [serveScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    this.child = child;
    let partial = '';
    const keep = (d: Buffer) => {
      const text = d.toString();
      this.output = (this.output + text).slice(-20_000);
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.includes('"bus reachable again"')) this.busRecoveries++;
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const listening = new Promise<void>((resolve, reject) => {
      let fresh = '';
      child.stderr!.on('data', (d: Buffer) => {
        fresh += d.toString();
        if (fresh.includes('Parley listening')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.id} exited (${code ?? signal}) before listening:\n${this.logTail()}`)),
      );
    });
    try {
      await listening;
    } catch (err) {
      this.child = undefined;
      throw err;
    }
  }

  /** Resolves once /readyz answers 200 (store and bus reachable). */
  async ready(timeoutMs = 20_000): Promise<void> {
    await waitFor(`${this.id} /readyz`, () => this.isReady(), timeoutMs);
  }

  async isReady(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** SIGKILL: a crash; the kernel resets every socket. */
  async crash(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** SIGTERM: the graceful stop (commits finish, sockets close with 1001); waits for the exit. */
  async terminate(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited(child);
    clearTimeout(timer);
    if (child.signalCode === 'SIGKILL') throw new Error(`${this.id} did not stop within ${timeoutMs} ms`);
    if (child.exitCode !== 0)
      throw new Error(`${this.id} stopped with ${child.exitCode}:\n${this.logTail()}`);
  }

  logTail(lines = 30): string {
    return this.output.trim().split('\n').slice(-lines).join('\n');
  }

  async dispose(): Promise<void> {
    await this.crash();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
