/**
 * A user of the web client in a Chromium page: registration through the UI with the code the
 * dev-mode node wrote to sms-codes.log, then the chat screens driven as a person would (labels,
 * buttons, Enter).
 */
import type { Page } from 'playwright-core';
import { readCodeFromLog } from './dev-code.js';

/** Registers `phone` in `page` and waits until the chat list says Connected. */
export async function registerInPage(page: Page, node: { url: string; dataDir: string }, phone: string) {
  await page.goto(`${node.url}/`);
  await page.getByLabel('Phone number').fill(phone);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill(readCodeFromLog(node.dataDir, phone));
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
}

/** Opens the direct chat with `phone` from the chat list ("New chat"). */
export async function startChat(page: Page, phone: string): Promise<void> {
  await page.getByLabel('New chat with (phone number)').fill(phone);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await messageBox(page).waitFor();
}

/** The open chat's text box, found by its label. */
const messageBox = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });

/** Types `text` in the open chat and sends it with Enter. */
export async function sendText(page: Page, text: string): Promise<void> {
  await messageBox(page).fill(text);
  await messageBox(page).press('Enter');
}

/** Waits for a message with exactly `text` in the open chat; returns its list item. */
export async function message(page: Page, text: string) {
  const item = page
    .getByRole('list', { name: 'Messages' })
    .getByRole('listitem')
    .filter({
      has: page.locator('.text', { hasText: text }),
    });
  await item.waitFor();
  return item;
}

/** Opens the chat at `index` of the chat list (newest first). */
export async function openChat(page: Page, index: number): Promise<void> {
  await page.locator('ul.chats li').nth(index).click();
  await messageBox(page).waitFor();
}

/** Mutes the open chat from its Info screen and goes back to the chat list, which says so. */
export async function muteOpenChat(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Info' }).click();
  await page.getByRole('button', { name: 'Mute notifications' }).click();
  await page.getByRole('button', { name: 'Unmute' }).waitFor();
  await page.getByRole('button', { name: '‹ Chat' }).click();
  await page.getByRole('button', { name: '‹ Chats' }).click();
  await page.locator('ul.chats li', { hasText: 'Muted' }).waitFor();
}
