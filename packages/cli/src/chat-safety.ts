/**
 * `/safety [+PHONE|USER_ID]` of `parley chat`: the safety number of the user and someone
 * else (by default the other person of the open direct chat), over every device key of
 * both. Both sides see the same 60 digits unless someone is in the middle.
 */
import { type ChatInfo, ChatKind, type SecureMessaging } from '@parley/sdk';
import type { Contacts } from './contacts.js';
import { resolvePhones } from './directory.js';
import { CliError } from './errors.js';
import { safetyLines } from './format.js';

/** A phone number as typed: digits with an optional + and separators. */
const PHONE = /^\+?[\d\s().-]+$/;

export async function safetyNumberLines(
  secure: SecureMessaging,
  contacts: Contacts,
  who: string | undefined,
  open: ChatInfo | undefined,
): Promise<string[]> {
  const self = secure.client.credentials.userId;
  let userId: string;
  if (who === undefined) {
    const other = open?.kind === ChatKind.DIRECT && open.members.find((m) => m.userId !== self);
    if (!other) throw new CliError('usage: /safety +PHONE|USER_ID (or open a direct chat)');
    userId = other.userId;
  } else if (PHONE.test(who)) {
    [userId] = (await resolvePhones(secure.client, contacts, [who])) as [string];
  } else userId = who;
  if (userId === self) throw new CliError('that is you: /safety compares you with someone else');
  const name = contacts.userName(userId);
  const keys = await secure.client.identityKeys([userId]);
  if (!keys.some((k) => k.userId === userId)) {
    throw new CliError(
      `no encryption keys for ${name}: unknown user, or none of their devices is set up yet`,
    );
  }
  const { digits } = await secure.safetyNumber(userId);
  return safetyLines(name, digits);
}
