/**
 * offline-sync: 10,000 messages are queued (seeded) for an offline device; it connects,
 * receives the backlog in pages and acks each page with a request id. Measured: connect
 * start to the answer of the ack that covers the last message. Repeated on fresh devices.
 */
import type { DeviceSpec, DrainResult } from '../gen-types.js';
import { Meter } from '../meter.js';
import { Rig } from '../rig.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, median } from '../util.js';

export async function offlineSync(rig: Rig): Promise<ScenarioOutput> {
  const S = rig.opts.quick ? { messages: 1000, reps: 1 } : { messages: 10_000, reps: 3 };
  const dir = rig.dataDir();
  const seeder = await rig.seeder(dir);
  const [sender, ...receivers] = await seeder.users(S.reps + 1);
  const specs: DeviceSpec[] = [];
  for (const r of receivers) {
    const chat = await seeder.chat('direct', [sender!, r]);
    const last = await seeder.messages(chat, sender!, S.messages, 100);
    specs.push({ ...r, chats: [], expect: { [chat]: last } });
  }
  await seeder.close();

  const server = await rig.server(dir);
  const pool = rig.pool(1);
  const meter = new Meter(pool, server, [0], 100);
  await meter.window();
  const rows: string[][] = [];
  const times: number[] = [];
  let lost = 0;
  const address = Rig.address();
  for (const [i, spec] of specs.entries()) {
    const cpu0 = server.sample()?.cpuSec ?? 0;
    await pool.call(0, {
      op: 'connect',
      url: server.url,
      devices: [spec],
      localAddress: address,
      encoding: rig.opts.encoding,
      concurrency: 1,
      ack: 'id',
      timeoutMs: 20_000,
    });
    const r = await pool.call<DrainResult>(0, { op: 'waitDrained', timeoutMs: 30_000 });
    const d = r.detail![i]!;
    const cpu = (server.sample()?.cpuSec ?? 0) - cpu0;
    if (!d.drainedAt) throw new Error(`device ${i + 1} did not drain within 30 s (${d.received} received)`);
    const ms = d.drainedAt - d.connectStartAt;
    times.push(ms);
    lost += S.messages - d.received;
    rows.push([
      String(i + 1),
      fmt(d.welcomeAt - d.connectStartAt, 1),
      fmt(d.lastMsgAt - d.connectStartAt, 1),
      fmt(ms, 1),
      fmt((S.messages / ms) * 1000),
      fmt(d.received),
      fmt(cpu * 1000, 0),
    ]);
    rig.say(`  run ${i + 1}: last message acked after ${fmt(ms, 1)} ms`);
  }
  const w = await meter.window();
  return {
    figures: [
      {
        name: `connect to last of ${fmt(S.messages)} acked (worst of ${S.reps})`,
        value: Math.max(...times),
        unit: 'ms',
        digits: 1,
        target: { op: '<=', value: 250 },
      },
      { name: `connect to last acked (median of ${S.reps})`, value: median(times), unit: 'ms', digits: 1 },
      { name: 'messages not received', value: lost, unit: 'msgs', target: { op: '==', value: 0 } },
      {
        name: 'error frames',
        value: Object.values(w.errorFrames).reduce((a, b) => a + b, 0),
        unit: '',
        target: { op: '==', value: 0 },
      },
    ],
    tables: [
      {
        title: `Backlog of ${fmt(S.messages)} messages (100 B payloads), acked per deliver frame with a request id`,
        head: [
          'run',
          'welcome ms',
          'last message ms',
          'last ack answered ms',
          'msgs/s',
          'received',
          'server CPU ms',
        ],
        rows,
      },
    ],
    notes: [
      'Each run is a different device (a fresh backlog); times are from the start of the WebSocket connect.',
    ],
  };
}
