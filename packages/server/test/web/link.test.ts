/**
 * Linking a browser to an account another device already has: the primary (a real `parley`
 * process) makes a link code with `parley link`, the page trades it for a device of that
 * account, and messages to the account then reach the browser too, end-to-end encrypted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { parley, registerCli } from './cli-process.js';
import { message, openChat, registerInPage, sendText, startChat } from './web-user.js';

describe('a browser linked to an existing account', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let linked: Page;
  let work: string;
  const carlPhone = nextPhone();
  const benPhone = nextPhone();
  const home = () => join(work, 'home');

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'parley-web-link-'));
    t = await startNode(
      { dev: true, smsProvider: 'console', dataDir: join(work, 'node') },
      { sms: undefined },
    );
    browser = await launchChromium();
    linked = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await registerCli(home(), t, carlPhone);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a wrong code, then links with the code `parley link` printed', async () => {
    await linked.goto(`${t.url}/`);
    await linked.getByRole('button', { name: 'Link to an account I already have' }).click();
    await linked.getByLabel('Link code').fill('000000');
    await linked.getByRole('button', { name: 'Link this browser' }).click();
    await linked.getByRole('alert').filter({ hasText: /\S/ }).waitFor();

    const made = parley(home(), ['link']);
    assert.equal(await made.exited, 0, made.output());
    const code = /Link code: (\S+)/.exec(made.output())?.[1];
    assert.ok(code, made.output());
    await linked.getByLabel('Link code').fill(code);
    await linked.getByRole('button', { name: 'Link this browser' }).click();
    await linked.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    const devices = parley(home(), ['devices']);
    assert.equal(await devices.exited, 0, devices.output());
    assert.match(devices.output(), /Web browser/);
  });

  it("messages to the account reach the linked browser, and the browser's replies reach the other side", async () => {
    const ben = await (await browser.newContext()).newPage();
    await registerInPage(ben, t, benPhone);
    await startChat(ben, carlPhone);
    const hello = `to carl's devices ${Date.now()}`;
    await sendText(ben, hello);
    await linked.getByText(hello).first().waitFor({ timeout: 60_000 });
    await openChat(linked, 0);
    await message(linked, hello);
    const reply = `from carl's browser ${Date.now()}`;
    await sendText(linked, reply);
    await message(ben, reply);
  });
});
