/** `parley link`: on the primary device, prints a one-time code that links a new device. */
import { createLinkCode } from '@parley/sdk';
import { COMMON_HELP, parseCommand } from '../args.js';
import { CliError } from '../errors.js';
import { loadSessionProfile } from '../session.js';

const HELP = `Usage: parley link [--profile NAME]

On the primary device: prints a one-time code that links a new device to this account.
On the new device run: parley register --link-code CODE --server URL

Options:
${COMMON_HELP}
`;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: {} }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { profile } = await loadSessionProfile(values, env);
  if (!profile.primary) throw new CliError('only the primary device can link devices');
  const link = await createLinkCode(profile);
  const seconds = Math.round(link.expiresInMs / 1000);
  process.stdout.write(
    `Link code: ${link.code} (valid for ${seconds} s)\n` +
      `On the new device run: parley register --link-code ${link.code} --server ${profile.serverUrl}\n`,
  );
  return 0;
}
