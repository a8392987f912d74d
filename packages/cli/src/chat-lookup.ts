/**
 * A chat as the user names it on the command line: its id, the phone number of the person
 * in a direct chat (+E164), or its name as `parley chat` shows it (a group's name, or the
 * contact's). Never creates a chat; a name two chats share asks for the id.
 */
import { type ChatInfo, ChatKind, type ParleyClient } from '@parley/sdk';
import type { Contacts } from './contacts.js';
import { resolvePhones } from './directory.js';
import { CliError } from './errors.js';

export async function findChat(client: ParleyClient, contacts: Contacts, arg: string): Promise<ChatInfo> {
  const chats = await client.listChats();
  const byId = chats.find((c) => c.id === arg);
  if (byId) return byId;
  if (arg.startsWith('+')) {
    const [userId] = await resolvePhones(client, contacts, [arg]);
    const direct = chats.find(
      (c) =>
        c.kind === ChatKind.DIRECT && c.members.length === 2 && c.members.some((m) => m.userId === userId),
    );
    if (!direct) throw new CliError(`no chat with ${arg} yet`);
    return direct;
  }
  const exact = chats.filter((c) => contacts.chatName(c) === arg);
  const named =
    exact.length > 0 ? exact : chats.filter((c) => contacts.chatName(c).toLowerCase() === arg.toLowerCase());
  if (named.length === 1) return named[0]!;
  if (named.length > 1)
    throw new CliError(
      `${named.length} chats are named "${arg}": give the chat id (${named.map((c) => c.id).join(', ')})`,
    );
  throw new CliError(`no chat "${arg}": give a chat id, a +phone number or a name that "parley chat" shows`);
}
