/**
 * Browser notifications while the tab is open (the Notification API): a new message from
 * someone else shows one when the page is hidden or unfocused, or its chat is not the one
 * open. One per chat at a time (tagged with the chat id, so a newer one replaces it); none for
 * a muted chat; nothing until the user turned them on (a click asks the browser), nor after
 * they turned them off here. What a notification shows stays on this device: it is made in
 * the page from the decrypted message. With the tab closed, Web Push takes over (web-push.ts).
 */
import { type ChatInfo, ChatKind } from '@parley/sdk/browser';
import type { Line } from './history.js';

export type NotifyPermission = 'default' | 'granted' | 'denied' | 'unsupported';

export function notifyPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

const OFF = 'parley.notifications';

/** On: the browser allows them and the user did not turn them off in the app. */
export function notificationsOn(): boolean {
  return notifyPermission() === 'granted' && localStorage.getItem(OFF) !== 'off';
}

/** The user's choice in the app (the browser's permission stays as it is). */
export function setNotificationsOff(off: boolean): void {
  if (off) localStorage.setItem(OFF, 'off');
  else localStorage.removeItem(OFF);
}

/** Asks the browser (call from a click); resolves with the answer. */
export async function askNotifyPermission(): Promise<NotifyPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

export interface NotifyContext {
  /** The chat the user has open, if any. */
  openChatId(): string | undefined;
  chat(chatId: string): ChatInfo | undefined;
  /** How to call the sender (a phone number or name known here). */
  senderName(userId: string): string;
}

/** What a notification says about a line: its text, or what kind of file it is. */
function bodyOf(line: Line): string {
  if (line.text) return line.text.length > 120 ? `${line.text.slice(0, 119)}…` : line.text;
  if (line.file) return line.file.mime?.startsWith('image/') ? '📷 Photo' : `📎 ${line.file.name || 'File'}`;
  return 'New message';
}

/** Shows a notification for `line`, received in `chatId`, when the user would not see it. */
export function notifyIncoming(ctx: NotifyContext, chatId: string, line: Line): void {
  if (line.mine || !notificationsOn()) return;
  const seen = document.visibilityState === 'visible' && document.hasFocus() && ctx.openChatId() === chatId;
  if (seen) return;
  const chat = ctx.chat(chatId);
  if (chat && chat.mutedUntil > Date.now()) return;
  const from = ctx.senderName(line.senderUserId);
  const title = chat && chat.kind !== ChatKind.DIRECT && chat.name ? `${from} in ${chat.name}` : from;
  const n = new Notification(title, { body: bodyOf(line), tag: chatId });
  n.onclick = () => {
    window.focus();
    n.close();
  };
}
