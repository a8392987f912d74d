/**
 * New chats by phone number (hashed discovery): the direct chat with a number's owner (the
 * existing one, or a new one), and a group with a name and members.
 */
import { type ChatInfo, ChatKind, type ParleyClient, ParleyError } from '@parley/sdk/browser';
import type { Contacts } from './contacts.js';

/** The direct chat with the owner of `phone`: an existing one, or a newly created one. */
export async function directChatWith(
  client: ParleyClient,
  contacts: Contacts,
  phone: string,
  chats: readonly ChatInfo[] | undefined,
): Promise<ChatInfo> {
  const [userId] = await contacts.resolve(client, [phone]);
  const known = chats ?? (await client.listChats());
  const existing = known.find(
    (c) => c.kind === ChatKind.DIRECT && c.members.length === 2 && c.members.some((m) => m.userId === userId),
  );
  return existing ?? (await client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [userId!] }));
}

/** Phone numbers typed in one field: separated by commas, semicolons or new lines. */
export function splitPhones(text: string): string[] {
  return text
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A new group named `name` with the owners of `phones` (this user is its creator). */
export async function createGroup(
  client: ParleyClient,
  contacts: Contacts,
  name: string,
  phones: readonly string[],
): Promise<ChatInfo> {
  if (!name.trim()) throw new ParleyError('INVALID_ARGUMENT', 'Give the group a name.');
  if (phones.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'Add at least one phone number.');
  const memberUserIds = await contacts.resolve(client, phones);
  return client.createChat({ kind: ChatKind.GROUP, name: name.trim(), memberUserIds });
}
