import assert from 'node:assert/strict';
import { it } from 'node:test';
import { machineInfo, renderMarkdown } from './report.js';
import type { Options, ScenarioResult } from './types.js';

const result: ScenarioResult = {
  name: 'direct',
  sync: 'FULL',
  encoding: 'proto',
  ok: true,
  figures: [{ name: 'max rate passing a step', value: 2000, unit: 'msgs/s' }],
  cpu: { wallSec: 1, serverSec: 1, genSec: 1, parentSec: 0, irqSec: 0, otherSec: 0 },
  tables: [],
  notes: [],
  serverLog: [],
  profiles: [],
};

const options = (store?: string): Options => ({
  scenarios: ['direct'],
  quick: false,
  encoding: 'proto',
  profile: false,
  syncs: ['FULL'],
  ...(store && { store }),
});

const render = (store?: string) =>
  renderMarkdown({
    startedAt: '2026-12-07T00:00:00.000Z',
    opts: options(store),
    machine: machineInfo(),
    results: [result],
    totalSec: 1,
  });

it("a report names the store's durability: SQLite's synchronous setting, or PostgreSQL", () => {
  const sqlite = render();
  assert.match(sqlite, /^## direct \(synchronous=FULL\)$/m);
  assert.match(sqlite, /^\| direct \| FULL \| max rate passing a step \|/m);
  const pg = render('postgres://postgres@127.0.0.1:5432/test');
  assert.match(pg, /^## direct \(PostgreSQL\)$/m);
  assert.match(pg, /^\| direct \| PostgreSQL \| max rate passing a step \|/m);
  assert.doesNotMatch(pg, /synchronous=FULL\)/);
});
