/**
 * Browser notifications while the tab is open: a message from someone else shows one when its
 * chat is not the one open (or the page is hidden or unfocused), with the text as the body and
 * the chat id as the tag; none for a chat the user is looking at, none for a muted chat, none
 * before the user allowed them. The page's Notification is wrapped to record what it shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { message, muteOpenChat, openChat, registerInPage, sendText, startChat } from './web-user.js';

interface Shown {
  title: string;
  body?: string;
  tag?: string;
}

/** Records each notification the page makes (and still makes it). */
async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    type Options = { body?: string; tag?: string };
    type Ctor = new (title: string, options?: Options) => object;
    const w = globalThis as unknown as { __shown: Shown[]; Notification: Ctor };
    w.__shown = [];
    const Real = w.Notification;
    w.Notification = class extends Real {
      constructor(title: string, options?: Options) {
        super(title, options);
        w.__shown.push({
          title,
          ...(options?.body && { body: options.body }),
          ...(options?.tag && { tag: options.tag }),
        });
      }
    };
  });
}

const shown = (page: Page) => page.evaluate(() => (globalThis as unknown as { __shown: Shown[] }).__shown);

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('browser notifications', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  const annPhone = nextPhone();
  const benPhone = nextPhone();

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    const annContext = await browser.newContext({
      permissions: ['notifications'],
      viewport: { width: 390, height: 844 },
    });
    await recordNotifications(annContext);
    ann = await annContext.newPage();
    ben = await (await browser.newContext()).newPage();
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows a message that arrives in a chat that is not open, and not one in the open chat', async () => {
    assert.equal(
      await ann.getByRole('button', { name: 'Turn on notifications' }).count(),
      0,
      'allowed already',
    );
    await startChat(ben, annPhone);
    await sendText(ben, 'hello from ben');
    await until(async () => (await shown(ann)).length === 1, 'a notification');
    const [first] = await shown(ann);
    assert.equal(first!.body, 'hello from ben');
    assert.ok(first!.title.length > 0);
    assert.ok(first!.tag, 'tagged with the chat');

    await openChat(ann, 0);
    await message(ann, 'hello from ben');
    await ann.bringToFront();
    assert.equal(
      await ann.evaluate(() =>
        (globalThis as unknown as { document: { hasFocus(): boolean } }).document.hasFocus(),
      ),
      true,
    );
    await sendText(ben, 'seen in the open chat');
    await message(ann, 'seen in the open chat');
    assert.equal((await shown(ann)).length, 1, 'nothing for the chat on screen');
  });

  it('shows nothing for a muted chat', async () => {
    await muteOpenChat(ann);
    await sendText(ben, 'while muted');
    await ann.locator('ul.chats li', { hasText: 'while muted' }).waitFor();
    assert.equal((await shown(ann)).length, 1, 'nothing for a muted chat');
  });

  it('asks before it shows any: without permission there is a button and nothing is shown', async () => {
    const context = await browser.newContext();
    await recordNotifications(context);
    const page = await context.newPage();
    await registerInPage(page, t, nextPhone());
    await page.getByRole('button', { name: 'Turn on notifications' }).waitFor();
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { Notification: { permission: string } }).Notification.permission,
      ),
      'default',
    );
  });
});
