/**
 * `/block`, `/unblock`, `/blocked` and `/report` in the interactive chat. A report of the open
 * chat discloses, as on WhatsApp, the last five messages from others this device decrypted
 * (their text goes to the server's operators); nothing else leaves the device.
 */
import {
  type ChatInfo,
  ChatKind,
  type ParleyClient,
  REPORT_REASONS,
  type ReportReasonName,
} from '@parley/sdk';
import type { Contacts } from './contacts.js';
import { resolvePhones } from './directory.js';
import { CliError } from './errors.js';
import type { LogEntry } from './message-log.js';

export const REPORT_MESSAGES = 5;

export interface ModerationDeps {
  client: ParleyClient;
  contacts: Contacts;
  print(line: string): void;
  open(): ChatInfo | undefined;
  /** The open chat's newest messages from others, as this device decrypted them. */
  recentFromOthers(n: number): Promise<LogEntry[]>;
  /** Resolves once a block's profile-key rotation (or an unblock's sharing) is done. */
  blocksSettled(): Promise<void>;
}

/** The user a /block or /unblock names: a +PHONE, or the other member of the open direct chat. */
async function target(d: ModerationDeps, args: string[]): Promise<string> {
  if (args[0]) return (await resolvePhones(d.client, d.contacts, [args[0]]))[0]!;
  const chat = d.open();
  const self = d.client.credentials.userId;
  if (chat?.kind === ChatKind.DIRECT) {
    const other = chat.members.find((m) => m.userId !== self)?.userId;
    if (other) return other;
  }
  throw new CliError('name a +PHONE, or open a direct chat');
}

export async function runModeration(d: ModerationDeps, name: string, args: string[]): Promise<void> {
  switch (name) {
    case 'block': {
      const who = await target(d, args);
      await d.client.block(who);
      await d.blocksSettled();
      d.print(
        `Blocked ${d.contacts.userName(who)}: their messages to you are not delivered, and they no longer see your online status or typing.`,
      );
      return;
    }
    case 'unblock': {
      const who = await target(d, args);
      await d.client.unblock(who);
      await d.blocksSettled();
      d.print(`Unblocked ${d.contacts.userName(who)}.`);
      return;
    }
    case 'blocked': {
      const list = await d.client.blockedUsers();
      if (list.length === 0) d.print('You have not blocked anyone.');
      for (const u of list) d.print(`blocked: ${d.contacts.userName(u.userId)}`);
      return;
    }
    case 'report': {
      const chat = d.open();
      if (!chat) throw new CliError('open the chat to report first');
      const reason = args[0] as ReportReasonName;
      if (!REPORT_REASONS.includes(reason))
        throw new CliError(`the reason is one of ${REPORT_REASONS.join(', ')}`);
      let rest = args[1] ?? '';
      const block = /^block(\s|$)/.test(rest);
      if (block) rest = rest.slice(5).trim();
      const self = d.client.credentials.userId;
      const other =
        chat.kind === ChatKind.DIRECT ? chat.members.find((m) => m.userId !== self)?.userId : undefined;
      const recent = await d.recentFromOthers(REPORT_MESSAGES);
      const res = await d.client.report({
        chatId: chat.id,
        ...(other && { userId: other }),
        reason,
        detail: rest,
        block,
        messages: recent.map((e) => ({
          seq: e.seq,
          senderUserId: e.senderUserId,
          serverTime: 0,
          text: e.text,
        })),
      });
      if (res.blocked) await d.blocksSettled();
      d.print(
        `Reported (${res.reportId}) with the last ${recent.length} message${recent.length === 1 ? '' : 's'} from others in this chat.${res.blocked && other ? ` ${d.contacts.userName(other)} is blocked.` : ''}`,
      );
      return;
    }
  }
}
