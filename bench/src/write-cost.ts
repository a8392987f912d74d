/**
 * `npm run bench:writes`: what one small frame (124 bytes, a `deliver` of a short message)
 * costs the process that moves it over a loopback TCP socket, in CPU (user and system), the
 * way a node does it: 1,000 sockets held by a child process, frames to random sockets, a few
 * every millisecond. Writes, one frame per call, by each Node API a server can use:
 *
 * - `write`: `socket.write` of one buffer;
 * - `cork`: header and payload corked into one writev (what `ws` does for each frame);
 * - `handle`: the stream handle's `writeBuffer`, below Node's stream machinery;
 * - `5 corked`: five frames to the same socket in one writev (a turn's frames, corked
 *   together by ws-connection.ts), counted per frame.
 *
 * And reads: the child writes the frames, the parent reads them (`read`, counted per frame).
 *
 *   npm run bench:writes -- [--rate 5000] [--seconds 5] [--rounds 3]
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { positiveArg as arg, fmt, median } from './util.js';

const SOCKETS = 1000;
const FRAME = 124;

type Mode = 'write' | 'cork' | 'handle' | '5 corked' | 'read';
const MODES: Mode[] = ['write', 'cork', 'handle', '5 corked', 'read'];

/** The child: holds the sockets; reads and drops what comes, or writes frames when told to. */
function child(port: number): void {
  const socks: net.Socket[] = [];
  const frame = Buffer.alloc(FRAME, 7);
  for (let i = 0; i < SOCKETS; i++) {
    const s = net.connect(port, '127.0.0.1', () => {
      if (socks.push(s) === SOCKETS) process.send!('ready');
    });
    s.setNoDelay(true);
    s.on('data', () => {});
    s.on('error', () => {});
  }
  let timer: NodeJS.Timeout | undefined;
  process.on('message', (m: { write?: number; stop?: boolean }) => {
    if (m.write) {
      const perTick = Math.max(1, Math.round(m.write / 1000));
      timer = setInterval(() => {
        for (let k = 0; k < perTick; k++) socks[(Math.random() * SOCKETS) | 0]!.write(frame);
      }, 1);
    } else if (m.stop) {
      clearInterval(timer);
      process.send!('stopped');
    }
  });
}

interface Cost {
  perSecond: number;
  userUs: number;
  sysUs: number;
}

async function measure(
  mode: Mode,
  socks: net.Socket[],
  kid: ReturnType<typeof fork>,
  rate: number,
  seconds: number,
): Promise<Cost> {
  const whole = Buffer.alloc(FRAME, 7);
  const head = whole.subarray(0, 4);
  const body = whole.subarray(4);
  const perTick = Math.max(1, Math.round(rate / 1000));
  let frames = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  if (mode === 'read') {
    let read = 0;
    for (const s of socks) s.on('data', (d: Buffer) => (read += d.length));
    kid.send({ write: rate });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const stopped = new Promise((r) => kid.once('message', r));
    kid.send({ stop: true });
    await stopped;
    frames = read / FRAME;
  } else {
    timer = setInterval(() => {
      for (let k = 0; k < perTick; k++) {
        const s = socks[(Math.random() * SOCKETS) | 0]!;
        if (mode === 'write') s.write(whole);
        else if (mode === 'cork') {
          s.cork();
          s.write(head);
          s.write(body);
          s.uncork();
        } else if (mode === 'handle') {
          const handle = (s as unknown as { _handle: { writeBuffer(req: object, b: Buffer): number } })
            ._handle;
          handle.writeBuffer({ oncomplete() {} }, whole);
        } else {
          s.cork();
          for (let f = 0; f < 5; f++) s.write(whole);
          s.uncork();
          frames += 4;
        }
        frames++;
      }
    }, 1);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(timer);
  }
  const c = process.cpuUsage(c0);
  const secs = (performance.now() - t0) / 1000;
  for (const s of socks) s.removeAllListeners('data');
  return { perSecond: frames / secs, userUs: c.user / frames, sysUs: c.system / frames };
}

async function main(): Promise<void> {
  const rate = arg('rate', 5000);
  const seconds = arg('seconds', 5);
  const rounds = arg('rounds', 3);
  const socks: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => {});
    socks.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const kid = fork(fileURLToPath(import.meta.url), ['--child', String(port)]);
  await new Promise((r) => kid.once('message', r));
  while (socks.length < SOCKETS) await new Promise((r) => setTimeout(r, 10));
  console.log(
    `${SOCKETS} loopback sockets, ${FRAME}-byte frames to random sockets at ${fmt(rate)}/s, ` +
      `${seconds} s a measurement, ${rounds} rounds (medians; CPU of this process only)`,
  );
  const results = new Map<Mode, Cost[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of MODES) results.get(mode)!.push(await measure(mode, socks, kid, rate, seconds));
  }
  console.log('| per frame | frames/s | CPU µs | user µs | system µs |');
  console.log('|---|---|---|---|---|');
  for (const [mode, costs] of results) {
    const perFrame = (f: (c: Cost) => number) => fmt(median(costs.map(f)), 1);
    const framesPerSecond = fmt(median(costs.map((c) => c.perSecond)));
    const cpu = perFrame((c) => c.userUs + c.sysUs);
    console.log(
      `| ${mode} | ${framesPerSecond} | ${cpu} | ${perFrame((c) => c.userUs)} | ${perFrame((c) => c.sysUs)} |`,
    );
  }
  kid.kill();
  server.close();
  for (const s of socks) s.destroy();
}

const at = process.argv.indexOf('--child');
if (at >= 0) child(Number(process.argv[at + 1]));
else await main();
