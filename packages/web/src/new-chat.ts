/** "New chat": a phone number → its owner's user id (hashed discovery) → the direct chat with them. */
import { type ChatInfo, ChatKind, normalizePhone, type ParleyClient, ParleyError } from '@parley/sdk/browser';

/** The direct chat with the owner of `phone`: an existing one, or a newly created one. */
export async function directChatWith(
  client: ParleyClient,
  phone: string,
  chats: readonly ChatInfo[] | undefined,
): Promise<ChatInfo> {
  const normalized = normalizePhone(phone.trim());
  const match = (await client.discover([normalized])).find((m) => m.phone === normalized);
  if (!match) throw new ParleyError('USER_NOT_FOUND', `No Parley account has the number ${normalized}.`);
  const known = chats ?? (await client.listChats());
  const existing = known.find(
    (c) =>
      c.kind === ChatKind.DIRECT &&
      c.members.length === 2 &&
      c.members.some((m) => m.userId === match.userId),
  );
  return existing ?? (await client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [match.userId] }));
}
