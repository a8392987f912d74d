/**
 * Screenshots of the web client's main screens (registration, chat list, a chat, a group and
 * its info), taken in Debian's Chromium at phone size from a real node with two users. The
 * test run writes them to a temporary directory and checks them; `npm run screenshots` runs
 * this file with PARLEY_SCREENSHOTS_DIR=docs/screenshots to refresh the README's images.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { noisePng } from './png.js';
import { message, openChat, registerInPage, sendText, startChat } from './web-user.js';

const SIZE = { width: 390, height: 844 };
const SCREENS = ['register', 'chat-list', 'chat', 'group', 'group-info'] as const;

/** Width and height from a PNG's header. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('screenshots of the main screens', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  const dir = process.env.PARLEY_SCREENSHOTS_DIR
    ? resolve(process.env.PARLEY_SCREENSHOTS_DIR)
    : mkdtempSync(join(tmpdir(), 'parley-screens-'));
  const shot = (page: Page, name: (typeof SCREENS)[number]) =>
    page.screenshot({ path: join(dir, `${name}.png`), animations: 'disabled', caret: 'hide' });

  before(async () => {
    mkdirSync(dir, { recursive: true });
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    const context = () => browser.newContext({ viewport: SIZE, deviceScaleFactor: 1, colorScheme: 'light' });
    ann = await (await context()).newPage();
    ben = await (await context()).newPage();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('writes the registration, chat list, chat, group and group info screens', async () => {
    const annPhone = nextPhone();
    const benPhone = nextPhone();
    await ann.goto(`${t.url}/`);
    await ann.getByLabel('Phone number').fill(annPhone);
    await shot(ann, 'register');
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
    for (const [page, name] of [
      [ann, 'Ann'],
      [ben, 'Ben'],
    ] as const) {
      await page.getByText('Your name', { exact: true }).click();
      await page.getByLabel('Name others see').fill(name);
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.getByText(`Your name: ${name}`).waitFor();
      await page.getByText(`Your name: ${name}`).click();
    }

    await startChat(ann, benPhone);
    await sendText(ann, 'Hi Ben! Are we still on for the hike on Saturday?');
    await openChat(ben, 0);
    await message(ben, 'Hi Ben! Are we still on for the hike on Saturday?');
    await sendText(ben, 'Yes! Meeting at the trailhead at 8.');
    await message(ann, 'Yes! Meeting at the trailhead at 8.');
    await ann.getByLabel('File to send').setInputFiles({
      name: 'trail-map.png',
      mimeType: 'image/png',
      buffer: noisePng(240, 140),
    });
    await ben.getByRole('img', { name: 'Image: trail-map.png', exact: true }).waitFor();
    const reply = await message(ben, 'Yes! Meeting at the trailhead at 8.');
    await ann.getByRole('img', { name: 'Image: trail-map.png', exact: true }).waitFor();
    await (await message(ann, 'Yes! Meeting at the trailhead at 8.'))
      .getByRole('button', { name: 'Message actions' })
      .click();
    await ann.getByRole('button', { name: 'React 👍' }).click();
    await reply.locator('.reactions', { hasText: '👍' }).waitFor();
    await sendText(ann, 'Perfect, see you there');
    await (await message(ann, 'Perfect, see you there')).locator('.tick', { hasText: 'Read' }).waitFor();
    await shot(ann, 'chat');

    await ann.getByRole('button', { name: '‹ Chats' }).click();
    await ann.getByText('New group').click();
    await ann.getByLabel('Group name').fill('Saturday hike');
    await ann.getByLabel('Members (phone numbers, separated by commas)').fill(benPhone);
    await ann.getByRole('button', { name: 'Create group' }).click();
    await ann.getByRole('heading', { name: 'Saturday hike' }).waitFor();
    await sendText(ann, 'Group for the hike: bring water and snacks');
    await ben.getByRole('button', { name: '‹ Chats' }).click();
    await ben.locator('ul.chats li', { hasText: 'Saturday hike' }).waitFor();
    await ben.locator('ul.chats li .unread').first().waitFor();
    await shot(ben, 'chat-list');
    await ben.locator('ul.chats li', { hasText: 'Saturday hike' }).click();
    await message(ben, 'Group for the hike: bring water and snacks');
    await sendText(ben, 'I will bring the sandwiches');
    await message(ann, 'I will bring the sandwiches');
    await shot(ann, 'group');
    await ann.getByRole('button', { name: 'Group info' }).click();
    await ann.getByRole('list', { name: '2 members' }).waitFor();
    await ann.getByRole('button', { name: 'Create invite link' }).click();
    await ann.locator('.invite output').waitFor();
    await shot(ann, 'group-info');

    for (const name of SCREENS) {
      const size = pngSize(readFileSync(join(dir, `${name}.png`)));
      assert.deepEqual(size, SIZE, name);
    }
  });
});
