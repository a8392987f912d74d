/**
 * A real call in the web client: coturn on loopback with the node's TURN secret, two Chromium
 * pages with fake camera and microphone, ICE forced through the relay ("Relay calls"). Media
 * must flow both ways (inbound RTP bytes grow on each side, over a relay candidate pair), and
 * TURN credentials made with another secret are refused by coturn.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePort } from '../crash/crash-run.js';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, findChromium } from './chromium.js';
import { message, registerInPage, sendText, startChat } from './web-user.js';

const TURNSERVER = '/usr/bin/turnserver';

function turnSkip(): string | false {
  const chromium = chromiumSkip();
  if (chromium) return chromium;
  try {
    accessSync(TURNSERVER, constants.X_OK);
    return false;
  } catch {
    if (process.env.CI) return false;
    console.log('# skipping the browser call test: coturn is not installed (apt-get install coturn)');
    return 'coturn is not installed';
  }
}

/** Records every RTCPeerConnection the page makes, so the test can read its stats. */
const RECORD_PEERS = `(() => {
  window.__peers = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peers.push(this); }
  };
})();`;

/**
 * Inbound RTP bytes of the page's newest peer connection, and whether the candidate pair it
 * selected starts at a relay candidate of this side (checked on both sides: relay to relay).
 */
const MEDIA_STATS = `(async () => {
  const pc = window.__peers[window.__peers.length - 1];
  if (!pc) return { bytes: 0, relayed: false, state: 'none' };
  const stats = await pc.getStats();
  let bytes = 0;
  let pairId;
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp') bytes += r.bytesReceived ?? 0;
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  const pair = pairId && stats.get(pairId);
  const local = pair && stats.get(pair.localCandidateId);
  return { bytes, relayed: local?.candidateType === 'relay', state: pc.connectionState };
})()`;

/** Relay candidates a fresh connection gathers with these credentials (0: coturn refused them). */
const relayCandidates = (page: Page, server: { urls: string; username: string; credential: string }) =>
  page.evaluate(
    `(async (server) => {
      const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: 'relay' });
      pc.createDataChannel('probe');
      let relays = 0;
      const done = new Promise((resolve) => {
        pc.onicecandidate = (e) => {
          if (!e.candidate) resolve();
          else if (e.candidate.type === 'relay') relays++;
        };
        setTimeout(resolve, 15000);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await done;
      pc.close();
      return relays;
    })(${JSON.stringify(server)})`,
  ) as Promise<number>;

async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a video call between two browsers through coturn', { skip: turnSkip() }, () => {
  const secret = randomBytes(24).toString('hex');
  let turnPort: number;
  let turn: ChildProcess;
  let t: TestNode;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let ann: Page;
  let ben: Page;

  before(async () => {
    turnPort = await freePort();
    const relayBase = 40_000 + Math.floor(Math.random() * 20_000);
    turn = spawn(
      TURNSERVER,
      [
        '-n',
        '--listening-ip=127.0.0.1',
        `--listening-port=${turnPort}`,
        '--relay-ip=127.0.0.1',
        `--min-port=${relayBase}`,
        `--max-port=${relayBase + 200}`,
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=parley.test',
        '--no-tls',
        '--no-dtls',
        '--no-cli',
        '--allow-loopback-peers',
        '--no-multicast-peers',
        '--log-file=stdout',
        '--simple-log',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    turn.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await poll(
      async () => out,
      (s) => /Total (UDP|General) servers|listener opened on/i.test(s) || turn.exitCode !== null,
      'turnserver to listen',
      15_000,
    );
    assert.equal(turn.exitCode, null, `turnserver exited: ${out.slice(-500)}`);
    t = await startNode(
      {
        dev: true,
        smsProvider: 'console',
        turnSecret: secret,
        turnUrls: `turn:127.0.0.1:${turnPort}?transport=udp`,
      },
      { sms: undefined },
    );
    browser = await chromium.launch({
      executablePath: findChromium()!,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-dev-shm-usage',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
      timeout: 60_000,
    });
    for (let i = 0; i < 2; i++) {
      const c = await browser.newContext({ permissions: ['camera', 'microphone'] });
      await c.addInitScript(RECORD_PEERS);
      contexts.push(c);
    }
    ann = await contexts[0]!.newPage();
    ben = await contexts[1]!.newPage();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    turn?.kill('SIGTERM');
  });

  it('connects through the relay, media flows both ways, hang up ends it on both sides; a declined call ends', async (tc) => {
    const benPhone = nextPhone();
    await registerInPage(ann, t, nextPhone());
    await registerInPage(ben, t, benPhone);
    await startChat(ann, benPhone);
    await sendText(ann, 'Can I call you?');
    const item = ben.locator('ul.chats li').first();
    await item.waitFor();
    await item.click();
    await message(ben, 'Can I call you?');
    await sendText(ben, 'Sure');
    await message(ann, 'Sure');
    for (const page of [ann, ben]) await page.getByLabel('Relay calls (hide my address)').check();

    await ann.getByRole('button', { name: 'Video call' }).click();
    const banner = ben.getByRole('alertdialog', { name: 'Incoming call' });
    await banner.waitFor({ timeout: 20_000 });
    assert.match(await banner.innerText(), /Incoming video call/);
    await banner.getByRole('button', { name: 'Answer' }).click();
    for (const page of [ann, ben])
      await page
        .getByRole('status')
        .filter({ hasText: /^Connected$/ })
        .waitFor({ timeout: 20_000 });

    const stats = (page: Page) =>
      page.evaluate(MEDIA_STATS) as Promise<{ bytes: number; relayed: boolean; state: string }>;
    const first = await Promise.all(
      [ann, ben].map((p) =>
        poll(
          () => stats(p),
          (s) => s.bytes > 0 && s.relayed,
          'relayed media',
          45_000,
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const later = await Promise.all([ann, ben].map(stats));
    for (const i of [0, 1]) {
      assert.ok(
        later[i]!.bytes > first[i]!.bytes,
        `inbound RTP bytes grow on side ${i}: ${first[i]!.bytes} → ${later[i]!.bytes}`,
      );
      assert.equal(later[i]!.relayed, true, 'the selected pair starts at a relay candidate');
    }
    tc.diagnostic(`inbound RTP bytes: ${first.map((f, i) => `${f.bytes} → ${later[i]!.bytes}`).join(', ')}`);
    // The call screen's controls work on the live call.
    await ben.getByRole('button', { name: 'Mute' }).click();
    await ben.getByRole('button', { name: 'Unmute' }).waitFor();
    await ben.getByRole('button', { name: 'Camera off' }).click();
    await ben.getByRole('button', { name: 'Camera on' }).waitFor();

    await ann.getByRole('button', { name: 'Hang up' }).click();
    await ben.getByRole('status').filter({ hasText: 'Call ended' }).waitFor({ timeout: 20_000 });
    await ann.getByRole('button', { name: 'Video call' }).waitFor();

    // A voice call the other side declines from the banner.
    await ben.getByRole('button', { name: 'Voice call' }).click();
    const incoming = ann.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 20_000 });
    assert.match(await incoming.innerText(), /Incoming voice call/);
    await incoming.getByRole('button', { name: 'Decline' }).click();
    await ben.getByRole('status').filter({ hasText: 'Call declined' }).waitFor({ timeout: 20_000 });
  });

  it('coturn refuses credentials made with another secret, and takes the node’s', async () => {
    const urls = `turn:127.0.0.1:${turnPort}?transport=udp`;
    const username = `${Math.floor(Date.now() / 1000) + 3600}:u_probe`;
    const hmac = (key: string) => createHmac('sha1', key).update(username).digest('base64');
    assert.ok(
      (await relayCandidates(ann, { urls, username, credential: hmac(secret) })) > 0,
      'the node’s secret works',
    );
    assert.equal(
      await relayCandidates(ann, { urls, username, credential: hmac('another-secret-entirely') }),
      0,
    );
    // Expired credentials made with the right secret are refused too.
    const expired = `${Math.floor(Date.now() / 1000) - 60}:u_probe`;
    const old = createHmac('sha1', secret).update(expired).digest('base64');
    assert.equal(await relayCandidates(ann, { urls, username: expired, credential: old }), 0);
  });
});
