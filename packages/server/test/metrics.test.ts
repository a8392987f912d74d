import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient, register, startNode, type TestNode, text } from './harness.js';

function value(metrics: string, line: string): number | undefined {
  const m = metrics.split('\n').find((l) => l.startsWith(`${line} `));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

describe('GET /metrics', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('counts connections, frames, sends, commits, deliveries and errors', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chat = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: 1, memberUserIds: [bob.userId] },
    });
    await a.call({
      case: 'send',
      value: { clientMessageId: 'm1', chatId: chat.chat.id, payload: text('x') },
    });
    await b.waitForMessages(1);
    a.sendRaw('{not json', false);
    await a.waitFor((f) => f.body.case === 'error');

    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const m = await res.text();
    assert.equal(value(m, 'parley_connections'), 2);
    assert.equal(value(m, 'parley_sends_total'), 1);
    assert.equal(value(m, 'parley_frames_in_total{type="send"}'), 1);
    assert.ok((value(m, 'parley_frames_out_total{type="deliver"}') ?? 0) >= 1);
    assert.equal(value(m, 'parley_commit_batch_size_count'), 1);
    assert.equal(value(m, 'parley_commit_batch_size_sum'), 1);
    assert.equal(value(m, 'parley_send_to_delivery_seconds_count'), 1);
    assert.equal(value(m, 'parley_errors_total{code="BAD_FRAME"}'), 1);
    assert.ok(value(m, 'parley_pending_deliveries') !== undefined);
    assert.ok(value(m, 'parley_process_resident_memory_bytes')! > 0);
    for (const id of [alice.userId, bob.userId, chat.chat.id]) assert.equal(m.includes(id), false, 'no ids');
    // Frame counts reach the counter when it is read: a second read adds only what came since.
    await a.call({
      case: 'send',
      value: { clientMessageId: 'm2', chatId: chat.chat.id, payload: text('y') },
    });
    await b.waitForMessages(2);
    const again = await (await fetch(`${t.url}/metrics`)).text();
    assert.equal(value(again, 'parley_frames_in_total{type="send"}'), 2);
    assert.equal(value(again, 'parley_sends_total'), 2);
    await a.close();
    await b.close();
  });
});
