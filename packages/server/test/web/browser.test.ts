/**
 * The web client in Debian's Chromium (headless, driven by playwright-core) against a real
 * node in dev mode: the page loads with nothing fetched from another origin, a user registers
 * through the UI (keyboard only) with the code the node wrote to <dataDir>/sms-codes.log, the
 * socket opens with a one-use ticket (no token in any URL), and a chat another user creates
 * with the SDK appears in the list; logging out revokes the device. All of it at 390 px
 * without horizontal scrolling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, ParleyClient } from '@parley/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { http, nextPhone, startNode, type TestNode } from '../harness.js';
import { registerViaLog } from '../register-via-log.js';
import { INTERACTIVE_BUDGET_MS, JS_BUDGET_BYTES, loadCost } from './budget.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { readCodeFromLog } from './dev-code.js';

/** A phone's size (iPhone 12-15 width). */
const PHONE = { width: 390, height: 844 };

describe('the web client in Chromium', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the page asked for: documents, scripts, fetches and sockets. */
  const requested: string[] = [];
  const others: ParleyClient[] = [];

  before(async () => {
    // Dev mode with the console SMS provider: codes go to the log and <dataDir>/sms-codes.log.
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('request', (r) => requested.push(r.url()));
    page.on('websocket', (ws) => requested.push(ws.url()));
  });
  after(async () => {
    for (const c of others) await c.close();
    await browser?.close();
    await t?.stop();
  });

  /** Evaluates an expression in the page (this package's types have no DOM). */
  const js = <T>(expression: string) => page.evaluate(expression) as Promise<T>;
  const stored = () => js<Credentials>("JSON.parse(localStorage.getItem('parley.credentials'))");

  async function noHorizontalScroll(): Promise<void> {
    const { scroll, client } = await js<{ scroll: number; client: number }>(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    );
    assert.ok(scroll <= client && client <= PHONE.width, `scrollWidth ${scroll} > clientWidth ${client}`);
  }

  it('loads the registration screen, with labelled fields, at phone width', async () => {
    const res = await page.goto(`${t.url}/`);
    assert.equal(res?.status(), 200);
    await page.getByLabel('Phone number').waitFor();
    assert.equal(await page.title(), 'Parley');
    assert.ok(await page.getByRole('button', { name: 'Send code' }).isVisible());
    await noHorizontalScroll();
  });

  it('the first load keeps its budgets: ≤ 300 KB of JavaScript compressed, interactive within 1 s', async () => {
    const cost = await loadCost(page);
    // Two more first loads, each in a new context (an empty cache): the best of the three is
    // the page's time, what another process took from the machine's two cores meanwhile is not.
    const times = [cost.interactiveMs];
    for (let i = 0; i < 2; i++) {
      const fresh = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
      try {
        const p = await fresh.newPage();
        await p.goto(`${t.url}/`);
        times.push((await loadCost(p)).interactiveMs);
      } finally {
        await fresh.close();
      }
    }
    console.log(
      `# first load: ${(cost.jsGzipBytes / 1024).toFixed(1)} KB JS gzip in ${cost.scripts.length} file(s), interactive at ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    assert.ok(cost.scripts.length > 0, 'the page loaded its script');
    assert.ok(cost.jsGzipBytes <= JS_BUDGET_BYTES, `${cost.jsGzipBytes} bytes`);
    assert.ok(Math.min(...times) <= INTERACTIVE_BUDGET_MS, `${times.join(', ')} ms`);
  });

  it('registers with the phone number and the dev-mode code, using the keyboard only', async () => {
    const phone = nextPhone();
    await page.keyboard.press('Tab');
    assert.equal(await js('document.activeElement?.id'), 'phone');
    await page.keyboard.type(phone);
    await page.keyboard.press('Enter');
    // The code field takes the focus once the code is sent.
    await page.waitForFunction(
      // A function, not a string: the page's CSP forbids eval, as it should.
      () =>
        (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
          .activeElement?.id === 'code',
    );
    await page.keyboard.type(readCodeFromLog(t.dataDir, phone));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await page.getByText('No chats yet').waitFor();
    await noHorizontalScroll();
  });

  it('opens its socket with a one-use ticket: no token in any URL', async () => {
    const creds = await stored();
    const sockets = requested.filter((u) => u.startsWith('ws:'));
    assert.equal(sockets.length, 1, sockets.join('\n'));
    const url = new URL(sockets[0]!);
    assert.equal(url.pathname, '/v1/ws');
    assert.match(url.searchParams.get('ticket') ?? '', /^[A-Za-z0-9_-]{60,}$/);
    assert.equal(url.searchParams.get('token'), null);
    for (const u of requested) assert.ok(!u.includes(creds.token), 'the token is in no URL');
  });

  it('shows a chat another user starts with the SDK, as it happens', async () => {
    const me = (await stored()).userId;
    const bob = await registerViaLog(t.url, t.dataDir, nextPhone());
    const credentials: Credentials = { serverUrl: t.url, ...bob, primary: true };
    const client = new ParleyClient({ credentials });
    others.push(client);
    await client.connect();
    const group = await client.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [me],
      name: 'Weekend plans',
    });
    const item = page.locator(`li[data-chat-id="${group.id}"]`);
    await item.waitFor();
    assert.match(await item.innerText(), /Weekend plans\s+Group, 2 members/);
    const direct = await client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [me] });
    await page.locator(`li[data-chat-id="${direct.id}"]`).waitFor();
    assert.match(await page.locator(`li[data-chat-id="${direct.id}"]`).innerText(), new RegExp(bob.userId));
    // Arrow keys move through the list.
    await page.locator('ul.chats li').first().focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await js("document.activeElement?.getAttribute('data-chat-id')"), group.id);
    await noHorizontalScroll();
  });

  it('a reload stays signed in and lists the chats again, interactive within 1 s', async () => {
    await page.reload();
    const cost = await loadCost(page);
    console.log(`# signed-in load: interactive at ${cost.interactiveMs.toFixed(0)} ms`);
    assert.ok(cost.interactiveMs <= INTERACTIVE_BUDGET_MS, `${cost.interactiveMs} ms`);
    assert.ok(cost.jsGzipBytes <= JS_BUDGET_BYTES, `${cost.jsGzipBytes} bytes`);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await page.locator('ul.chats li').nth(1).waitFor();
    assert.equal(await page.locator('ul.chats li').count(), 2);
    // A new socket, with a new ticket.
    const tickets = requested
      .filter((u) => u.startsWith('ws:'))
      .map((u) => new URL(u).searchParams.get('ticket'));
    assert.equal(new Set(tickets).size, 2);
  });

  it('logging out revokes the device and goes back to registration', async () => {
    const { token } = await stored();
    await page.getByRole('button', { name: 'Log out' }).click();
    // Exactly: the chat list's "New chat with (phone number)" must not pass for it.
    await page.getByLabel('Phone number', { exact: true }).waitFor();
    assert.equal(await js("localStorage.getItem('parley.credentials')"), null);
    const r = await http(`${t.url}/v1/devices`, 'GET', undefined, token);
    assert.equal(r.status, 401);
  });

  it('asked nothing of any other origin', () => {
    const origin = new URL(t.url);
    assert.ok(requested.length > 4, requested.join('\n'));
    for (const u of requested) {
      const url = new URL(u);
      assert.equal(url.host, origin.host, u);
      assert.ok(['http:', 'ws:'].includes(url.protocol), u);
    }
  });
});
