/**
 * Names from end-to-end encrypted profiles in the web client: a user saves a name in one
 * browser; the person they write to sees that name instead of a phone number in the chat
 * list and the chat's header, and the node stores none of it in clear.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { filesUnder } from '../db-scan.js';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { message, openChat, registerInPage, sendText, startChat } from './web-user.js';

describe('profile names in the web client', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  const annPhone = nextPhone();
  const benPhone = nextPhone();
  const annName = `Ann Marsh ${Date.now()}`;

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    ann = await (await browser.newContext()).newPage();
    ben = await (await browser.newContext()).newPage();
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('the name Ann saves is what Ben sees, and the node holds only ciphertext', async () => {
    await ann.getByText('Your name', { exact: true }).click();
    await ann.getByLabel('Name others see').fill(annName);
    await ann.getByRole('button', { name: 'Save name' }).click();
    await ann.getByText(`Your name: ${annName}`).waitFor();
    await startChat(ann, benPhone);
    await sendText(ann, 'hello, it is Ann');
    await ben.locator('ul.chats li', { hasText: annName }).waitFor({ timeout: 60_000 });
    await openChat(ben, 0);
    await message(ben, 'hello, it is Ann');
    await ben.locator('.bar h1', { hasText: annName }).waitFor();
    // A reload keeps the name (the profile is in the device's store).
    await ben.reload();
    await ben.locator('ul.chats li', { hasText: annName }).waitFor();
    for (const f of filesUnder(t.dataDir))
      assert.equal(readFileSync(f).includes(Buffer.from(annName)), false, `${f} holds the name`);
  });

  it("Ann's photo becomes her avatar in Ben's chat list, decrypted in his browser", async () => {
    const photo = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    await ann.getByRole('button', { name: '‹ Chats' }).click();
    await ann.getByText(`Your name: ${annName}`).click();
    await ann
      .getByLabel('Your photo')
      .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: photo });
    const avatar = ben.getByRole('img', { name: `${annName}'s avatar` });
    await avatar.waitFor({ timeout: 60_000 });
    await ben.waitForFunction((alt) => {
      const d = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
      const i = d.querySelector(`img.avatar[alt="${alt}"]`) as {
        complete: boolean;
        naturalWidth: number;
      } | null;
      return i?.complete === true && i.naturalWidth > 0;
    }, `${annName}'s avatar`);
    const w = await avatar.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth);
    assert.equal(w, 320, 'the avatar is the small copy, not the photo');
  });
});
