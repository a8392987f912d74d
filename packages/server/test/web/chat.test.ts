/**
 * Chats in the web client, end to end encrypted, in Debian's Chromium against a real node:
 * two browsers (separate contexts: separate IndexedDB) register, one starts a chat by phone
 * number, they write both ways live and the sender sees ✓ then ✓✓; a second tab of the same
 * browser waits for the first. Then a browser and a Node SDK device with libsignal talk
 * through one node, whose data directory holds none of the plaintext.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Credentials, ParleyClient } from '@parley/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { filesUnder } from '../db-scan.js';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { registerViaLog } from '../register-via-log.js';
import { type SecureDevice, SecureDevices } from '../secure-devices.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { message, registerInPage, sendText, startChat } from './web-user.js';

const PHONE = { width: 390, height: 844 };

const credentialsIn = (page: Page) =>
  page.evaluate("JSON.parse(localStorage.getItem('parley.credentials'))") as Promise<Credentials>;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

describe('two browsers chat end to end encrypted', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let ann: Page;
  let ben: Page;
  const annPhone = nextPhone();
  const benPhone = nextPhone();

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    for (let i = 0; i < 2; i++)
      contexts.push(await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 }));
    ann = await contexts[0]!.newPage();
    ben = await contexts[1]!.newPage();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('registering sets up the device: keys in IndexedDB, identity keys uploaded', async () => {
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
    for (const page of [ann, ben]) {
      const { deviceId } = await credentialsIn(page);
      const names = (await page.evaluate(
        'indexedDB.databases().then((d) => d.map((x) => x.name))',
      )) as string[];
      assert.ok(names.includes(`parley-keys-${deviceId}`), names.join());
    }
    // Both devices' identity keys are on the node, as another user's SDK sees them.
    const other = new ParleyClient({
      credentials: {
        serverUrl: t.url,
        ...(await registerViaLog(t.url, t.dataDir, nextPhone())),
        primary: true,
      },
    });
    await other.connect();
    const users = await Promise.all([ann, ben].map(async (p) => (await credentialsIn(p)).userId));
    const keys = await other.identityKeys(users);
    await other.close();
    assert.deepEqual(keys.map((k) => k.userId).sort(), [...users].sort());
    for (const k of keys) assert.equal(k.identityKey.length, 33);
  });

  it('starts a chat by phone number and they write both ways, live, with ✓✓ for the sender', async () => {
    await startChat(ann, benPhone);
    await sendText(ann, 'Hi Ben, lunch at one?');
    const sent = await message(ann, 'Hi Ben, lunch at one?');
    // Ben's list shows the chat; he opens it with the keyboard.
    const item = ben.locator('ul.chats li').first();
    await item.waitFor();
    await item.focus();
    await ben.keyboard.press('Enter');
    await message(ben, 'Hi Ben, lunch at one?');
    // Ben has it on screen: delivered, and read (read receipts are on by default).
    await sent.locator('.tick', { hasText: 'Read' }).waitFor();
    assert.equal((await sent.locator('.tick [aria-hidden]').innerText()).trim(), '✓✓');

    await sendText(ben, 'Sure, see you there');
    await message(ann, 'Sure, see you there');
    const reply = await message(ben, 'Sure, see you there');
    await reply.locator('.tick', { hasText: /Delivered|Read/ }).waitFor();
    // Live both ways while both are open.
    await sendText(ann, 'Great');
    await message(ben, 'Great');
    const theirs = await ann.locator('.messages li.theirs').allInnerTexts();
    assert.equal(theirs.length, 1);
    assert.match(theirs[0]!, /Sure, see you there/);
    const { scroll, client } = (await ben.evaluate(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    )) as { scroll: number; client: number };
    assert.ok(scroll <= client, `scrollWidth ${scroll} > clientWidth ${client}`);
  });

  it('"new chat" with the same number opens the same chat; an unknown number says so', async () => {
    await ann.getByRole('button', { name: '‹ Chats' }).click();
    await ann.locator('ul.chats li').first().waitFor();
    assert.equal(await ann.locator('ul.chats li').count(), 1);
    await ann.getByLabel('New chat with (phone number)').fill(nextPhone());
    await ann.getByRole('button', { name: 'Start chat' }).click();
    await ann.getByRole('alert').filter({ hasText: 'No Parley account' }).waitFor();
    await startChat(ann, benPhone);
    await message(ann, 'Great');
  });

  it('a second tab of the same browser waits for the first, then takes the device over with what arrived meanwhile', async () => {
    const second = await contexts[0]!.newPage();
    await second.goto(`${t.url}/`);
    await second.getByText('Parley is open in another tab').waitFor();
    // When the first closes, the second takes the device over, and gets what came meanwhile.
    await ann.close();
    await sendText(ben, 'Are you there?');
    await second.getByRole('heading', { name: 'Chats' }).waitFor();
    await second.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await second.locator('ul.chats li').first().click();
    await message(second, 'Are you there?');
    await sendText(second, 'Yes, in a new tab');
    await message(ben, 'Yes, in a new tab');
    ann = second;
  });
});

describe('a browser and a Node SDK device (libsignal) through one node', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let page: Page;
  const devices = new SecureDevices();
  let node: SecureDevice;

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: PHONE })).newPage();
  });
  after(async () => {
    await browser?.close();
    await devices.dispose();
    await t?.stop();
  });

  it('exchange messages both ways, and the node stores none of their plaintext', async () => {
    const nodePhone = nextPhone();
    const creds = await registerViaLog(t.url, t.dataDir, nodePhone);
    node = await devices.device({ serverUrl: t.url, ...creds, primary: true });
    await registerInPage(page, t, nextPhone());

    const toNode = `WEB-MARKER-${randomBytes(8).toString('hex')}`;
    const toWeb = `NODE-MARKER-${randomBytes(8).toString('hex')}`;
    await startChat(page, nodePhone);
    await sendText(page, toNode);
    await until(
      () => node.received.some((m) => m.content.text === toNode),
      'the Node device reads the browser',
    );
    const chatId = node.received.find((m) => m.content.text === toNode)!.chatId;
    await node.secure.send(chatId, { text: toWeb });
    await message(page, toWeb);
    const mine = await message(page, toNode);
    await mine.locator('.tick', { hasText: 'Delivered' }).waitFor();
    assert.deepEqual(node.failures, []);

    await devices.closeAll();
    await browser.close();
    await t.node.stop();
    const files = filesUnder(t.dataDir);
    assert.ok(files.some((f) => f.endsWith('parley.db')));
    assert.ok(
      files.some((f) => readFileSync(f).includes(Buffer.from(creds.userId))),
      'the scan sees stored ids',
    );
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const needle of [toNode, toWeb])
        assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} in ${f}`);
    }
  });
});
