/**
 * The chat view's features between two browsers (Debian's Chromium, separate contexts) on a
 * real node: typing shows both ways, ticks reach "read", an image goes up with visible
 * progress (resumable, in chunks) and shows decrypted on the other side at its real size, a
 * file dropped on the chat comes out as a download with the same bytes, a video shows its
 * poster frame (made in the sender's page) before anything is downloaded, a pasted image shows;
 * replies, reactions, edits and deletes reach the other side.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasFfmpeg } from '@parley/sdk/testing';
import type { Browser, Page } from 'playwright-core';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { noisePng } from './png.js';
import { message, muteOpenChat, openChat, registerInPage, sendText, startChat } from './web-user.js';

const PHONE = { width: 390, height: 844 };

/** The page's DOM, for functions run in the page (this package has no DOM types). */
type Doc = { querySelector(s: string): unknown; querySelectorAll(s: string): Iterable<unknown> };

/** Opens a message's actions and clicks one of them. */
async function act(page: Page, text: string, action: string): Promise<void> {
  const item = await message(page, text);
  await item.getByRole('button', { name: 'Message actions' }).click();
  await item.getByRole('button', { name: action, exact: true }).click();
}

describe('the chat view between two browsers', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  const benPhone = nextPhone();

  before(async () => {
    t = await startNode({ dev: true, smsProvider: 'console' }, { sms: undefined });
    browser = await launchChromium();
    ann = await (await browser.newContext({ viewport: PHONE })).newPage();
    ben = await (await browser.newContext({ viewport: PHONE, acceptDownloads: true })).newPage();
    await registerInPage(ann, t, nextPhone());
    await registerInPage(ben, t, benPhone);
    await startChat(ann, benPhone);
    await sendText(ann, 'Hello Ben');
    await openChat(ben, 0);
    await message(ben, 'Hello Ben');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('typing shows on the other side, both ways, and stops when the message is sent', async () => {
    const box = (p: Page) => p.getByRole('textbox', { name: 'Message', exact: true });
    await box(ann).pressSequentially('Are you');
    await ben.locator('.bar .subtitle', { hasText: 'typing…' }).waitFor();
    await box(ann).press('Enter');
    await message(ben, 'Are you');
    await ben.locator('.bar .subtitle', { hasText: 'typing…' }).waitFor({ state: 'detached' });
    await box(ben).pressSequentially('Yes');
    await ann.locator('.bar .subtitle', { hasText: 'typing…' }).waitFor();
    await box(ben).press('Enter');
    await message(ann, 'Yes');
    await ann.locator('.bar .subtitle', { hasText: 'typing…' }).waitFor({ state: 'detached' });
    // Ben has the chat open: Ann's messages reach "read".
    const sent = await message(ann, 'Are you');
    await sent.locator('.tick', { hasText: 'Read' }).waitFor();
  });

  it('an image goes up with progress and shows decrypted on the other side at its size', async () => {
    const image = noisePng(1800, 1600);
    assert.ok(image.length > 8 * 1024 * 1024, 'larger than the 8 MiB chunk the server suggests: two chunks');
    // The second chunk waits until the test has seen the progress part way.
    let patches = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    await ann.route(/\/v1\/uploads\//, async (route) => {
      if (route.request().method() === 'PATCH' && ++patches === 2) await held;
      await route.continue();
    });
    await ann.getByLabel('File to send').setInputFiles({
      name: 'noise.png',
      mimeType: 'image/png',
      buffer: image,
    });
    const bar = ann.getByRole('progressbar', { name: 'Uploading noise.png' });
    await bar.waitFor();
    await ann.waitForFunction(() => {
      const d = (globalThis as unknown as { document: Doc }).document;
      const p = d.querySelector('progress.upload') as { value: number; max: number } | null;
      return p !== null && p.value > 0 && p.value < p.max;
    });
    release();
    await bar.waitFor({ state: 'detached' });
    await ann.unrouteAll();
    // Ann sees her own image; Ben's is downloaded, checked and decrypted, from a blob: URL
    // (the pointer's thumbnail, "Image: noise.png (loading)", may show first).
    await ann.getByRole('img', { name: 'Image: noise.png', exact: true }).waitFor();
    const img = ben.getByRole('img', { name: 'Image: noise.png', exact: true });
    await img.waitFor({ timeout: 60_000 });
    await ben.waitForFunction(() => {
      const d = (globalThis as unknown as { document: Doc }).document;
      const i = d.querySelector('img.preview:not(.thumb)') as {
        complete: boolean;
        naturalWidth: number;
      } | null;
      return i?.complete === true && i.naturalWidth > 0;
    });
    const size = (await img.evaluate((i) => {
      const el = i as unknown as { naturalWidth: number; naturalHeight: number; src: string };
      return { w: el.naturalWidth, h: el.naturalHeight, src: el.src };
    })) as { w: number; h: number; src: string };
    assert.deepEqual({ w: size.w, h: size.h }, { w: 1800, h: 1600 });
    assert.match(size.src, /^blob:/);
    assert.equal(patches, 2);
  });

  it('a video shows its poster frame and length on the other side before it is downloaded', {
    skip: hasFfmpeg() || process.env.CI ? false : 'ffmpeg is not installed',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-web-video-'));
    try {
      const file = join(dir, 'clip.webm');
      execFileSync('ffmpeg', [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10', '-t', '3'],
        ...['-c:v', 'libvpx', '-b:v', '300k', file],
      ]);
      await ann.getByLabel('File to send').setInputFiles({
        name: 'clip.webm',
        mimeType: 'video/webm',
        buffer: readFileSync(file),
      });
      // The sender's own line settles first: its poster from the pointer, or the reason it has
      // none, or "Not sent".
      const own = ann.locator('li.mine').filter({ hasText: 'clip.webm' });
      const settled = own
        .getByRole('img', { name: 'Video: clip.webm', exact: true })
        .or(own.locator('.preview-note'))
        .or(own.locator('.tick.not-sent'));
      await settled.waitFor({ timeout: 60_000 });
      assert.equal(await own.locator('.tick.not-sent').count(), 0, 'the video was not sent');
      const note = own.locator('.preview-note');
      assert.equal(await note.count(), 0, `the sender made no poster: ${await note.allTextContents()}`);
      const poster = ben.getByRole('img', { name: 'Video: clip.webm', exact: true });
      await poster.waitFor({ timeout: 60_000 });
      const shown = (await poster.evaluate((i) => {
        const el = i as unknown as { naturalWidth: number; naturalHeight: number; complete: boolean };
        return { w: el.naturalWidth, h: el.naturalHeight };
      })) as { w: number; h: number };
      assert.deepEqual(shown, { w: 320, h: 180 }, 'the 320 px poster from the pointer');
      await ben.getByRole('button', { name: /^Download clip\.webm \(.*, 0:03\)$/ }).waitFor();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a video the browser cannot read goes without a poster, and the sender is told why', async () => {
    await ann.getByLabel('File to send').setInputFiles({
      name: 'broken.webm',
      mimeType: 'video/webm',
      buffer: Buffer.from('not a video at all, only text in a .webm file'),
    });
    const own = ann.locator('li.mine').filter({ hasText: 'broken.webm' });
    await own
      .locator('.preview-note', { hasText: /^Preview: no poster frame: / })
      .waitFor({ timeout: 60_000 });
    assert.equal(await own.getByRole('img').count(), 0);
    // It still arrives, as a plain download.
    await ben.getByRole('button', { name: /^Download broken\.webm \(\d+ B\)$/ }).waitFor();
    assert.equal(await ben.locator('li.theirs .preview-note').count(), 0, 'only the sender sees the note');
  });

  it('a file dropped on the chat arrives as a download with the same bytes', async () => {
    const text = 'Minutes of the meeting\n'.repeat(50);
    const dataTransfer = await ann.evaluateHandle((body) => {
      const g = globalThis as unknown as {
        DataTransfer: new () => { items: { add(f: unknown): void } };
        File: new (parts: string[], name: string, o: { type: string }) => unknown;
      };
      const dt = new g.DataTransfer();
      dt.items.add(new g.File([body], 'minutes.txt', { type: 'text/plain' }));
      return dt;
    }, text);
    await ann.locator('.shell.chat').dispatchEvent('drop', { dataTransfer });
    const link = ben.getByRole('button', { name: /Download minutes\.txt/ });
    await link.waitFor();
    const [download] = await Promise.all([ben.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'minutes.txt');
    assert.equal(readFileSync(await download.path()).toString(), text);
  });

  it('an image pasted into the message box is sent and shown', async () => {
    const small = noisePng(40, 30);
    await ann.getByRole('textbox', { name: 'Message', exact: true }).evaluate(
      (box, bytes) => {
        const g = globalThis as unknown as {
          DataTransfer: new () => { items: { add(f: unknown): void } };
          File: new (parts: Uint8Array[], name: string, o: { type: string }) => unknown;
          ClipboardEvent: new (type: string, o: unknown) => unknown;
        };
        const dt = new g.DataTransfer();
        dt.items.add(new g.File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
        (box as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(
          new g.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
        );
      },
      [...small],
    );
    const img = ben.getByRole('img', { name: 'Image: pasted.png', exact: true });
    await img.waitFor();
    await ben.waitForFunction(() => {
      const d = (globalThis as unknown as { document: Doc }).document;
      const all = [...d.querySelectorAll('img.preview')] as Array<{ alt: string; naturalWidth: number }>;
      return all.some((i) => i.alt === 'Image: pasted.png' && i.naturalWidth === 40);
    });
  });

  it('replies, reactions, edits and deletes reach the other side', async () => {
    await act(ben, 'Hello Ben', 'Reply');
    await ben.getByText('Replying to:').waitFor();
    await sendText(ben, 'Hi Ann, replying');
    const reply = await message(ann, 'Hi Ann, replying');
    assert.equal((await reply.locator('.reply-to').innerText()).trim(), 'Hello Ben');

    await act(ann, 'Hi Ann, replying', 'React 👍');
    const reacted = await message(ben, 'Hi Ann, replying');
    await reacted.locator('.reactions', { hasText: '👍' }).waitFor();

    await sendText(ann, 'See you at 5');
    await message(ben, 'See you at 5');
    await act(ann, 'See you at 5', 'Edit');
    const box = ann.getByRole('textbox', { name: 'Message', exact: true });
    await ann.getByText('Editing:').waitFor();
    assert.equal(await box.inputValue(), 'See you at 5');
    await box.fill('See you at 6');
    await box.press('Enter');
    const edited = await message(ben, 'See you at 6');
    assert.match(await edited.locator('.meta').innerText(), /edited/);
    assert.equal(await ben.locator('.messages .text', { hasText: 'See you at 5' }).count(), 0);

    await act(ann, 'See you at 6', 'Delete for everyone');
    await ben.locator('.messages .text', { hasText: 'See you at 6' }).waitFor({ state: 'detached' });
    await ben.getByText('This message was deleted.').waitFor();
    await ann.getByText('This message was deleted.').waitFor();
  });
  it('works from the keyboard at phone width, and every control has a name', async () => {
    const box = ben.getByRole('textbox', { name: 'Message', exact: true });
    // A message's actions open with the keyboard; Reply, then Escape drops the reply.
    const item = await message(ben, 'Are you');
    await item.getByRole('button', { name: 'Message actions' }).focus();
    await ben.keyboard.press('Enter');
    await item.getByRole('button', { name: 'Reply' }).waitFor();
    await ben.keyboard.press('Tab');
    await ben.keyboard.press('Enter');
    await ben.getByText('Replying to:').waitFor();
    assert.equal(
      await box.evaluate(
        (el) =>
          el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
      ),
      true,
    );
    await ben.keyboard.press('Escape');
    await ben.getByText('Replying to:').waitFor({ state: 'detached' });
    // Shift+Tab from the box reaches the attach button.
    await ben.keyboard.press('Shift+Tab');
    assert.equal(await ben.evaluate("document.activeElement?.getAttribute('aria-label')"), 'Attach a file');
    for (const page of [ann, ben]) {
      const unnamed = (await page.evaluate(`[...document.querySelectorAll('button, input, textarea, select')]
        .filter((el) => !el.hidden && el.type !== 'file')
        .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()))
        .map((el) => el.outerHTML)`)) as string[];
      assert.deepEqual(unnamed, []);
      const { scroll, client } = (await page.evaluate(
        '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
      )) as { scroll: number; client: number };
      assert.ok(scroll <= client && client <= PHONE.width, `scrollWidth ${scroll} > clientWidth ${client}`);
    }
  });
  it('the safety number shows the same on both sides', async () => {
    const numbers: string[] = [];
    for (const page of [ann, ben]) {
      await page.getByRole('button', { name: 'Info' }).click();
      await page.getByRole('button', { name: 'Show safety number' }).click();
      numbers.push(await page.getByRole('status', { name: 'Safety number' }).innerText());
      await page.getByRole('button', { name: '‹ Chat' }).click();
    }
    assert.match(numbers[0]!, /^(\d{5} ){11}\d{5}$/);
    assert.equal(numbers[0], numbers[1]);
  });
  it('a muted chat says so in the chat list', async () => {
    await muteOpenChat(ann);
  });
});
