/**
 * Finding people: phone numbers → user ids through hashed discovery (remembered in
 * Contacts), and the direct chat with someone (the existing one, or a new one).
 */
import { type ChatInfo, ChatKind, normalizePhone, type ParleyClient } from '@parley/sdk';
import type { Contacts } from './contacts.js';
import { CliError } from './errors.js';

/** User ids for the phone numbers, in order; fails naming the numbers with no account. */
export async function resolvePhones(
  client: ParleyClient,
  contacts: Contacts,
  phones: string[],
): Promise<string[]> {
  const normalized = phones.map(normalizePhone);
  const matches = await client.discover(normalized);
  await contacts.learn(matches);
  const byPhone = new Map(matches.map((m) => [m.phone, m.userId]));
  const missing = normalized.filter((p) => !byPhone.has(p));
  if (missing.length > 0) throw new CliError(`no Parley account for ${missing.join(', ')}`);
  return normalized.map((p) => byPhone.get(p)!);
}

/** The direct chat with the owner of `phone`: an existing one, or a newly created one. */
export async function directChatWith(
  client: ParleyClient,
  contacts: Contacts,
  phone: string,
  chats?: readonly ChatInfo[],
): Promise<ChatInfo> {
  const [userId] = await resolvePhones(client, contacts, [phone]);
  const known = chats ?? (await client.listChats());
  const existing = known.find(
    (c) => c.kind === ChatKind.DIRECT && c.members.some((m) => m.userId === userId) && c.members.length === 2,
  );
  return existing ?? (await client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [userId!] }));
}
