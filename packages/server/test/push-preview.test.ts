/**
 * End-to-end encrypted push previews through a real node and a real APNs provider talking
 * to a local APNs server: a sender's SDK seals a preview for each recipient device, the
 * offline recipient's push carries it opaque, and only the recipient device opens it. The
 * node's files and log hold none of the preview text.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Credentials } from '@parley/sdk';
import pino from 'pino';
import { ApnsProvider } from '../src/adapters/push/apns/apns-provider.js';
import { systemClock } from '../src/ports/clock.js';
import type { DeviceId } from '../src/ports/types.js';
import { filesUnder } from './db-scan.js';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice, SecureDevices } from './secure-devices.js';
import { type ApnsTestServer, startApnsServer, testApnsKey } from './support/push-servers/index.js';

const key = testApnsKey();
let tokens = 0;
const newToken = () => `${(++tokens).toString(16).padStart(8, '0')}${'cd'.repeat(28)}`;

describe('end-to-end encrypted push previews', () => {
  const devices = new SecureDevices();
  let apns: ApnsTestServer;
  let t: TestNode;
  let logFile: string;

  before(async () => {
    apns = await startApnsServer(key);
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-push-preview-'));
    logFile = join(dataDir, 'node.log');
    const log = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
    const provider = new ApnsProvider({
      keyId: key.keyId,
      teamId: key.teamId,
      key: key.pem,
      host: apns.url,
      sandboxHost: apns.url,
      timeoutMs: 10_000,
      ttlSeconds: 3600,
      clock: systemClock,
      log,
      ca: apns.cert,
    });
    t = await startNode(
      { dataDir, pushEnabled: true, pushCoalesceMs: 0, pushPollMs: 50 },
      { log, push: { providers: [provider] } },
    );
  });
  after(async () => {
    await devices.dispose();
    await t.stop();
    await apns.close();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  /** Bob's APNs pushes, once `count` arrived. */
  async function pushesTo(token: string, count: number) {
    await until(() => apns.received.filter((r) => r.token === token).length >= count, 'the pushes', 20_000);
    return apns.received.filter((r) => r.token === token);
  }

  /** Alice (sealing previews) and Bob in a chat, each having read the other; then Bob goes offline. */
  async function offlineBob(kind: 'direct' | 'group'): Promise<{
    alice: SecureDevice;
    bob: SecureDevice;
    carol?: SecureDevice;
    chatId: string;
    token: string;
  }> {
    const [aliceCreds, bobCreds] = [await newUser(t), await newUser(t)];
    const carolCreds: Credentials | undefined = kind === 'group' ? await newUser(t) : undefined;
    const alice = await devices.device(aliceCreds, { pushPreviews: true });
    const bob = await devices.device(bobCreds);
    const carol = carolCreds && (await devices.device(carolCreds));
    const chat = await alice.client.createChat(
      kind === 'direct'
        ? { kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] }
        : { kind: ChatKind.GROUP, name: 'trip', memberUserIds: [bobCreds.userId, carolCreds!.userId] },
    );
    await alice.secure.send(chat.id, { text: 'hello' });
    await until(
      () => bob.received.some((m) => m.chatId === chat.id),
      'bob has alice’s first message',
      10_000,
    );
    const token = newToken();
    await bob.client.registerPush({ platform: 'apns', token, topic: 'org.parley.app' });
    await bob.client.close();
    await until(() => !t.node.hub.get(bobCreds.deviceId as DeviceId), 'bob is offline on the node');
    return { alice, bob, ...(carol && { carol }), chatId: chat.id, token };
  }

  it('an offline device gets a push with a preview only it opens; the node keeps no plaintext', async () => {
    const { alice, bob, chatId, token } = await offlineBob('direct');
    const secret = `dinner at 8, bring ${randomBytes(6).toString('hex')}`;
    await alice.secure.send(chatId, { text: secret });
    const [push] = await pushesTo(token, 1);
    assert.equal(push!.body.chatId, chatId);
    assert.equal(push!.headers['apns-push-type'], 'alert');
    assert.equal(push!.body.aps['mutable-content'], 1, 'the app extension may rewrite the alert');
    const preview = push!.body.preview as string;
    assert.equal(typeof preview, 'string');
    assert.ok(!Buffer.from(preview, 'base64').includes(Buffer.from(secret)), 'the push holds no plaintext');

    assert.deepEqual(await bob.secure.openPushPreview({ chatId, preview }), {
      senderDeviceId: alice.creds.deviceId,
      text: secret,
    });
    assert.equal(await alice.secure.openPushPreview({ chatId, preview }), undefined, 'not for the sender');
    assert.equal(
      await bob.secure.openPushPreview({ chatId: `${chatId}x`, preview }),
      undefined,
      'bound to its chat',
    );

    // The preview lives only in the push job: once sent, nothing on disk or in the log holds it.
    await until(() => apns.problems.length === 0, 'the APNs server saw no problems');
    const files = filesUnder(t.dataDir);
    assert.ok(
      files.some((f) => f.endsWith('.db')) && files.includes(logFile),
      'database and log were scanned',
    );
    for (const f of files) assert.ok(!readFileSync(f).includes(Buffer.from(secret)), `no plaintext in ${f}`);
  });

  it('a file gets a preview naming it; pushPreview: false sends none; a group member gets one too', async () => {
    const { alice, bob, chatId, token } = await offlineBob('group');
    await alice.secure.send(chatId, { text: 'quiet' }, { pushPreview: false });
    const [silent] = await pushesTo(token, 1);
    assert.equal(silent!.body.preview, undefined, 'no preview when the sender sends none');
    assert.equal(silent!.body.chatId, chatId);

    await alice.secure.sendFile(chatId, new Uint8Array(randomBytes(64)), {
      mime: 'application/pdf',
      name: 'tickets.pdf',
    });
    const [, withFile] = await pushesTo(token, 2);
    const opened = await bob.secure.openPushPreview({ chatId, preview: withFile!.body.preview as string });
    assert.equal(opened?.text, '📎 tickets.pdf');

    await alice.secure.send(chatId, { text: 'own words?' }, { pushPreview: 'Alice sent a message' });
    const [, , custom] = await pushesTo(token, 3);
    const mine = await bob.secure.openPushPreview({ chatId, preview: custom!.body.preview as string });
    assert.equal(mine?.text, 'Alice sent a message');
  });
});
