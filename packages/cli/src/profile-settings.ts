/**
 * The user's own end-to-end encrypted profile from the terminal (`/profile` in `parley chat`,
 * and `parley profile`): showing it, and setting the name, about text or avatar image. The
 * avatar is read from a file (an image, at most 5 MiB), encrypted and uploaded; the SDK
 * checks the name (1-64 characters) and about text (at most 140).
 */
import type { SecureMessaging, UserProfile } from '@parley/sdk';
import { formatSize, readImageFile } from './attachments.js';
import { CliError } from './errors.js';
import { forTerminal } from './text.js';

export const MAX_AVATAR_BYTES = 5 * 1024 * 1024;

/** What a profile shows, one line each. */
export function profileLines(p: UserProfile | undefined): string[] {
  if (!p) return ['No profile yet: /profile name NAME (others then see the name instead of your number).'];
  return [
    `Name: ${forTerminal(p.name)}`,
    `About: ${p.about === '' ? '-' : forTerminal(p.about)}`,
    `Avatar: ${p.avatar ? `${p.avatar.mime ?? 'image'}, ${formatSize(p.avatar.size)}` : '-'}`,
  ];
}

/** Reads, encrypts and uploads an avatar image. */
export async function uploadAvatarFile(secure: SecureMessaging, path: string) {
  const { bytes, mime } = await readImageFile(path, MAX_AVATAR_BYTES, 'an avatar');
  return secure.uploadAvatar(bytes, mime);
}

/** `/profile [name NAME | about TEXT | avatar PATH|off]`: sets one field, then shows the profile. */
export async function runProfileCommand(secure: SecureMessaging, args: readonly string[]): Promise<string[]> {
  const [field, value] = args;
  const me = secure.client.credentials.userId;
  if (field === undefined) return profileLines(await secure.profile(me));
  if (value === undefined) throw new CliError('usage: /profile [name NAME | about TEXT | avatar PATH|off]');
  switch (field.toLowerCase()) {
    case 'name':
      return profileLines(await secure.setProfile({ name: value }));
    case 'about':
      return profileLines(await secure.setProfile({ about: value === '-' ? '' : value }));
    case 'avatar':
      return profileLines(
        await secure.setProfile({
          avatar: value.toLowerCase() === 'off' ? null : await uploadAvatarFile(secure, value),
        }),
      );
    default:
      throw new CliError('usage: /profile [name NAME | about TEXT | avatar PATH|off]');
  }
}
