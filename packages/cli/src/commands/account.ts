/**
 * `parley account delete`: deletes the account for good, from its primary device, after a
 * typed confirmation and a fresh SMS code (both asked for unless given by flags).
 */
import { createInterface } from 'node:readline/promises';
import { deleteAccount, requestAccountDeletionCode } from '@parley/sdk';
import { COMMON_HELP, optional, parseCommand } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { deleteProfile } from '../profile.js';
import { loadSessionProfile } from '../session.js';

const HELP = `Usage: parley account delete [--code CODE] [--yes] [--profile NAME]

Deletes this account for good, from its primary device. The server erases at once the
account, its devices, keys, memberships (the other members see that you left), the media
only you uploaded, and the messages everyone has received; messages someone has not
received yet still reach them. Your number can register again as a new account. The
details are in docs/accounts.md.

You are asked to type DELETE to confirm, then for the code the server sends by SMS to the
account's number. This profile's local files are removed afterwards.

Options:
  --code CODE   the SMS code, if you already asked for it (with an earlier run that stopped)
  --yes         do not ask for confirmation (for scripts)
${COMMON_HELP}
`;

const OPTIONS = {
  code: { type: 'string' },
  yes: { type: 'boolean' },
} as const;

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    const answer = rl.question(question);
    const closed = new Promise<never>((_, reject) =>
      rl.once('close', () => reject(new CliError('no answer given; nothing was deleted'))),
    );
    return (await Promise.race([answer, closed])).trim();
  } finally {
    rl.close();
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals, help } = parseCommand(
    { help: HELP, options: OPTIONS, maxPositionals: 1 },
    argv,
  );
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [action] = positionals;
  if (action !== 'delete') {
    throw new UsageError(
      action === undefined ? `missing action\n\n${HELP.trimEnd()}` : `unknown action "${action}"`,
    );
  }
  const { profile, paths } = await loadSessionProfile(values, env);
  if (!profile.primary) throw new CliError('only the primary device can delete the account');
  if (values.yes !== true) {
    const who = profile.phone ?? `user ${profile.userId}`;
    const typed = await ask(`This deletes the account ${who} for good. Type DELETE to confirm: `);
    if (typed !== 'DELETE') throw new CliError('not confirmed; nothing was deleted');
  }
  let code = optional(values, 'code');
  if (code === undefined) {
    const sent = await requestAccountDeletionCode(profile);
    const minutes = Math.round(sent.expiresInMs / 60_000);
    process.stderr.write(`A code was sent to ${sent.phone} (valid for ${minutes} min).\n`);
    code = await ask('Code: ');
  }
  if (code === '') throw new CliError('no code given; nothing was deleted');
  process.stderr.write('Deleting the account…\n');
  const r = await deleteAccount(profile, code);
  await deleteProfile(paths);
  process.stdout.write(
    `Deleted account ${profile.userId}: left ${r.chatsLeft} chat(s), ${r.chatsDropped} emptied chat(s) removed.\n` +
      `Removed the local profile in ${paths.credentials}\n`,
  );
  return 0;
}
