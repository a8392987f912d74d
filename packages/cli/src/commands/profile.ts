/**
 * `parley profile`: shows or sets this user's end-to-end encrypted profile (name, about text,
 * avatar image) from the command line, as /profile does in `parley chat`.
 */
import { COMMON_HELP, optional, parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import { profileLines, uploadAvatarFile } from '../profile-settings.js';
import { openSession } from '../session.js';

const HELP = `Usage: parley profile [--name NAME] [--about TEXT] [--avatar FILE | --no-avatar] [--profile NAME]

Shows your profile, or sets what the options name and then shows it. The profile is end-to-end
encrypted: the server stores only ciphertext, and the people you talk to get the key inside
your messages (a first profile sends it to your chats at once). They then see your name
instead of your phone number or user id.
  --name NAME      1-64 characters
  --about TEXT     at most 140 characters ("" clears it)
  --avatar FILE    an image (.png, .jpg, .gif, .webp; at most 5 MiB), encrypted before upload
  --no-avatar      removes the avatar
(--profile names the saved device to use, not this profile.) One command at a time per saved
device: this stops with KEY_STORE_BUSY while "parley chat" runs with the same one; use /profile
there instead.

Options:
${COMMON_HELP}
`;

const OPTIONS = {
  name: { type: 'string' },
  about: { type: 'string' },
  avatar: { type: 'string' },
  'no-avatar': { type: 'boolean' },
} as const;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: OPTIONS }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const name = optional(values, 'name');
  const about = optional(values, 'about');
  const avatarPath = optional(values, 'avatar');
  const noAvatar = values['no-avatar'] === true;
  if (avatarPath !== undefined && noAvatar)
    throw new UsageError('--avatar and --no-avatar exclude each other');
  const session = await openSession(values, env, { receive: false });
  try {
    await session.start();
    const { secure } = session;
    const me = secure.client.credentials.userId;
    const changes = {
      ...(name !== undefined && { name }),
      ...(about !== undefined && { about }),
      ...(avatarPath !== undefined && { avatar: await uploadAvatarFile(secure, avatarPath) }),
      ...(noAvatar && { avatar: null }),
    };
    const profile =
      Object.keys(changes).length > 0
        ? await secure.setProfile(changes)
        : await secure.profile(me, { refresh: true });
    for (const line of profileLines(profile)) process.stdout.write(`${line}\n`);
    return 0;
  } finally {
    await session.close();
  }
}
