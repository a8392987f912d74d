import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busContract } from '../../../ports/bus.contract.js';
import { ManualClock } from '../../../ports/clock.js';
import type { DeviceId } from '../../../ports/types.js';
import { LocalBus, LocalBusNetwork } from './local-bus.js';

busContract(
  'LocalBus',
  async () => {
    const network = new LocalBusNetwork();
    return {
      make: async (nodeId, onError) => new LocalBus({ nodeId, network, onError }),
      interrupt: async () => network.interrupt(),
      restore: async () => network.restore(),
    };
  },
  { outages: true },
);

describe('LocalBus', () => {
  it('a single node works on its own private network', async () => {
    const bus = new LocalBus();
    const got: string[] = [];
    await bus.start((msg, from) => got.push(`${msg.kind} from ${from}`));
    await bus.sendToNode('local', { kind: 'wake' });
    await bus.broadcast({ kind: 'all' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['wake from local', 'all from local']);
    await bus.close();
  });

  it('locations expire by the network clock', async () => {
    const clock = new ManualClock();
    const bus = new LocalBus({ network: new LocalBusNetwork(clock) });
    const d = 'd1' as DeviceId;
    await bus.register([d], 1000);
    clock.advance(999);
    assert.equal((await bus.locate([d])).get(d), 'local');
    clock.advance(1);
    assert.equal((await bus.locate([d])).size, 0);
  });

  it('a node id that cannot name a channel is refused', () => {
    assert.throws(() => new LocalBus({ nodeId: 'a b' }), /node id/);
    assert.throws(() => new LocalBus({ nodeId: '' }), /node id/);
  });
});
