/**
 * A real node for the push crash test: `node push-child.js --push-log FILE [--push-before-commit]
 * [serve flags]`. Its only provider writes each push to FILE and fsyncs before answering, so
 * a push survives the SIGKILL that follows it. A push names the newest message of its job
 * (chat and seq). `--push-before-commit` is the negative control: it also pushes to every
 * recipient of a send before the send is committed (naming the message by its body, and
 * holding the commit for a second), which the checker must catch. `--push-hang` writes each
 * push it is handed (with `hang: true`) and never answers: the job stays leased by this node
 * (the multi-node test kills it then). With `--store postgres://…` the node shares PostgreSQL.
 */
import { fsyncSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PostgresStore } from '../../src/adapters/store/postgres/postgres-store.js';
import { SqliteWorkerStore } from '../../src/adapters/store/sqlite-worker/worker-store.js';
import { loadConfig } from '../../src/config/load.js';
import { openNode } from '../../src/node.js';
import type { PushProvider } from '../../src/ports/push.js';
import type { SendCommit, Store } from '../../src/ports/store.js';

const argv = process.argv.slice(2);
const take = (flag: string, withValue: boolean): string | undefined => {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, withValue ? 2 : 1);
  return withValue ? value : flag;
};
const logPath = take('--push-log', true)!;
const beforeCommit = take('--push-before-commit', false) !== undefined;
const hang = take('--push-hang', false) !== undefined;
const config = loadConfig({ env: {}, argv });

const fd = openSync(logPath, 'a');
const record = (r: Record<string, unknown>) => {
  writeSync(fd, `${JSON.stringify(r)}\n`);
  fsyncSync(fd);
};

const base: Store =
  config.store === 'sqlite'
    ? SqliteWorkerStore.open({ path: join(resolve(config.dataDir), 'parley.db') })
    : await PostgresStore.open(config.store, { poolSize: 4 });
/** The newest message of the job each device's push is for (the payload carries no seq). */
const leased = new Map<string, { chatId: string; seq: number }>();
const dec = new TextDecoder();
const store = new Proxy(base, {
  get(target, prop, receiver) {
    if (prop === 'pushJobsLease')
      return async (...a: Parameters<Store['pushJobsLease']>) => {
        const jobs = await target.pushJobsLease(...a);
        for (const j of jobs) leased.set(j.deviceId, { chatId: j.chatId, seq: j.lastSeq });
        return jobs;
      };
    if (prop === 'messageCommit' && beforeCommit)
      return async (batch: readonly SendCommit[]) => {
        for (const b of batch)
          for (const to of b.push?.to ?? [])
            record({ deviceId: to.deviceId, chatId: b.chatId, key: b.payload ? dec.decode(b.payload) : '' });
        await new Promise((r) => setTimeout(r, 1000));
        return target.messageCommit(batch);
      };
    return Reflect.get(target, prop, receiver);
  },
}) as Store;

const provider: PushProvider = {
  platform: 'fcm',
  async send(_target, payload) {
    const job = leased.get(payload.deviceId);
    const at = Date.now();
    const r = {
      deviceId: payload.deviceId,
      chatId: payload.chatId,
      seq: job?.seq ?? -1,
      count: payload.messageCount,
    };
    record({ ...r, at, node: config.nodeId ?? '', ...(hang && { hang: true }) });
    if (hang) await new Promise(() => {});
    return { kind: 'sent', status: 200 };
  },
  async close() {},
};

const node = await openNode(config, { store, push: { providers: [provider] } });
const port = await node.start();
process.stderr.write(`Parley listening on ${port}\n`);
