/**
 * What the web client keeps and how it comes back, in Debian's Chromium against a real node:
 * a reload shows the chat list and the history from IndexedDB before the socket is up, and
 * then downloads only what arrived meanwhile (counted in the deliver frames the page gets);
 * a browser that goes offline shows a reconnect banner, and when it is back it gets what was
 * sent meanwhile, in order, and the banner goes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeFrame } from '@parley/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { message, openChat, registerInPage, sendText, startChat } from './web-user.js';

const PHONE = { width: 390, height: 844 };

/** Counts the messages the page gets in `deliver` frames (binary protobuf frames). */
function countDelivered(page: Page): { count: number; seqs: number[] } {
  const seen = { count: 0, seqs: [] as number[] };
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') return;
      const frame = decodeFrame(new Uint8Array(payload), 'proto');
      if (frame.body.case !== 'deliver') return;
      for (const m of frame.body.value.messages) {
        seen.count++;
        seen.seqs.push(Number(m.seq));
      }
    });
  });
  return seen;
}

describe('the web client keeps history and comes back after going offline', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let annContext: BrowserContext;
  let ann: Page;
  let ben: Page;
  const annPhone = nextPhone();
  const benPhone = nextPhone();

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    annContext = await browser.newContext({ viewport: PHONE });
    ann = await annContext.newPage();
    ben = await (await browser.newContext({ viewport: PHONE })).newPage();
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
    await startChat(ann, benPhone);
    for (const text of ['one', 'two', 'three']) await sendText(ann, text);
    await openChat(ben, 0);
    for (const text of ['one', 'two', 'three']) await message(ben, text);
    await sendText(ben, 'four');
    await message(ann, 'four');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('a reload shows the chats and their history before the socket is up', async () => {
    // The socket is held: the page opens one, and nothing answers.
    let hold = true;
    await ben.routeWebSocket(/\/v1\/ws/, (ws) => {
      if (!hold) ws.connectToServer();
    });
    await ben.reload();
    await ben.getByRole('status').filter({ hasText: 'Connecting…' }).waitFor();
    await openChat(ben, 0);
    for (const text of ['one', 'two', 'three', 'four']) await message(ben, text);
    await ben.getByRole('button', { name: '‹ Chats' }).click();
    hold = false;
  });

  it('a reload downloads only what is new', async () => {
    const delivered = countDelivered(ben);
    await ben.reload();
    await ben.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await openChat(ben, 0);
    await message(ben, 'four');
    // Nothing came again.
    await sendText(ann, 'five');
    await message(ben, 'five');
    assert.equal(delivered.count, 1, `delivered seqs ${delivered.seqs.join()}`);
    // Away (another page), one more message; back, only that one comes.
    await ben.goto('about:blank');
    await sendText(ann, 'six');
    await (await message(ann, 'six')).locator('.tick', { hasText: 'Sent' }).waitFor();
    await ben.goto(`${t.url}/`);
    await openChat(ben, 0);
    await message(ben, 'six');
    await message(ben, 'one');
    // Only "five" (again, if the page left before its ack reached the node) and "six": nothing
    // from before the reload.
    const five = delivered.seqs[0]!;
    assert.ok(
      delivered.seqs.every((s) => s === five || s === five + 1),
      `delivered seqs ${delivered.seqs.join()}`,
    );
    assert.ok(delivered.seqs.includes(five + 1));
    const texts = await ben.locator('.messages li .text').allInnerTexts();
    assert.deepEqual(texts, ['one', 'two', 'three', 'four', 'five', 'six']);
  });

  it('offline: a reconnect banner shows; back online, what was sent comes in order and the banner goes', async () => {
    await ann.getByRole('button', { name: '‹ Chats' }).click();
    await openChat(ann, 0);
    const errors: string[] = [];
    ann.on('pageerror', (e) => errors.push(String(e)));
    await annContext.setOffline(true);
    await ann
      .getByRole('status')
      .filter({ hasText: /Offline|Connecting/ })
      .waitFor({ timeout: 60_000 });
    const away = ['while', 'you', 'were', 'away', 'offline'];
    for (const text of away) await sendText(ben, text);
    for (const text of away) await (await message(ben, text)).locator('.tick', { hasText: 'Sent' }).waitFor();
    await annContext.setOffline(false);
    await message(ann, 'offline');
    const texts = await ann.locator('.messages li .text').allInnerTexts();
    assert.deepEqual(texts.slice(-5), away);
    // The banner has gone (its live region is empty once connected).
    await ann.locator('.banner').waitFor({ state: 'detached' });
    assert.equal(
      await ann
        .getByRole('status')
        .filter({ hasText: /Offline|Connecting/ })
        .count(),
      0,
    );
    assert.deepEqual(errors, [], 'no error in the page');
  });
});
