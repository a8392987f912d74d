/**
 * A real Parley node on loopback for the CLI's tests: started before and stopped after the
 * file's tests, in a temp dir (node data under `<dir>/node`), with registration codes captured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Credentials, requestCode, verifyCode } from '@parley/sdk';
import { createLogger, loadConfig, openNode, type ParleyNode, TEST_LIMITS } from '@parley/server';

export interface TestNode {
  /** `http://127.0.0.1:<port>`, set once the node is up. */
  url: string;
  /** The temp dir (files of the test may go beside `node/`). */
  dir: string;
  node: ParleyNode;
  /** The last code sent by SMS to `phone`. */
  codeOf(phone: string): string | undefined;
  /** Registers a primary device for `phone` with the captured code. */
  register(phone: string, deviceName?: string): Promise<Credentials>;
  /** The last code sent to `phone`. */
  code(phone: string): string | undefined;
}

/**
 * `argv`: the node's command-line settings (e.g. `--media s3://…`), asked for when the node
 * starts; default none.
 */
export function useTestNode(prefix: string, options: { argv?: () => Promise<string[]> } = {}): TestNode {
  const codes = new Map<string, string>();
  const t = {
    url: '',
    dir: '',
    codeOf: (phone: string) => codes.get(phone),
    register: async (phone: string, deviceName = 'test') => {
      await requestCode(t.url, phone);
      return verifyCode(t.url, { phone, code: codes.get(phone)!, deviceName });
    },
    code: (phone: string) => codes.get(phone),
  } as TestNode;
  before(async () => {
    t.dir = await mkdtemp(join(tmpdir(), prefix));
    const cfg = loadConfig({
      overrides: {
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
        dev: false,
        dataDir: join(t.dir, 'node'),
        // Every test client is 127.0.0.1: the per-IP and per-user abuse limits must not bind.
        ...TEST_LIMITS,
      },
      argv: (await options.argv?.()) ?? [],
    });
    const sms = { sendCode: async (phone: string, code: string) => void codes.set(phone, code) };
    t.node = await openNode(cfg, { sms, log: createLogger(cfg.logLevel) });
    t.url = `http://127.0.0.1:${await t.node.start()}`;
  });
  after(async () => {
    await t.node?.stop();
    await rm(t.dir, { recursive: true, force: true });
  });
  return t;
}
