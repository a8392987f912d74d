/**
 * `parley pin [set|change|remove]`: the account's registration lock (two-step PIN). Shows
 * whether it is on, or, on the primary device, sets, changes or removes the PIN. The PIN is
 * read from stdin (not echoed on a terminal), never from the command line.
 */
import { registrationLockStatus, removeRegistrationLock, setRegistrationLock } from '@parley/sdk';
import { COMMON_HELP, parseCommand } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { ask } from '../prompt.js';
import { loadSessionProfile } from '../session.js';

const HELP = `Usage: parley pin [--profile NAME]
       parley pin set|change|remove [--profile NAME]

The registration lock: with a PIN set, registering this number on a new phone needs the PIN
after the SMS code, and this account's devices are told of every try. After 10 wrong PINs
registration is locked for 7 days; removing or changing the PIN here ends that at once.
The lock lapses when none of the account's devices has been online for 7 days.

Without an action: shows whether a PIN is set. "set" and "change" ask for a new PIN of 6 to
20 digits (twice; read from stdin, not shown on a terminal), "remove" removes it. Only the
primary device may set, change or remove the PIN; the current PIN is not needed.

Options:
${COMMON_HELP}
`;

function date(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

async function newPin(): Promise<string> {
  const pin = await ask('New PIN (6 to 20 digits): ', { hidden: true, missing: 'no PIN given' });
  if (!/^[0-9]{6,20}$/.test(pin)) throw new CliError('a PIN is 6 to 20 digits (0-9)');
  const again = await ask('Repeat the PIN: ', { hidden: true, missing: 'no PIN given' });
  if (again !== pin) throw new CliError('the PINs differ; nothing was changed');
  return pin;
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals, help } = parseCommand({ help: HELP, options: {}, maxPositionals: 1 }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [action] = positionals;
  if (action !== undefined && !['set', 'change', 'remove'].includes(action)) {
    throw new UsageError(`unknown action "${action}"; use set, change or remove`);
  }
  const { profile } = await loadSessionProfile(values, env);
  if (action === undefined) {
    const status = await registrationLockStatus(profile);
    process.stdout.write(
      status.enabled
        ? `Registration lock: on (PIN set ${date(status.setAt ?? 0)}).\n`
        : 'Registration lock: off. Set a PIN with: parley pin set\n',
    );
    return 0;
  }
  if (!profile.primary) throw new CliError('only the primary device can set, change or remove the PIN');
  if (action === 'remove') {
    await removeRegistrationLock(profile);
    process.stdout.write('Registration lock removed: the SMS code alone registers this number.\n');
    return 0;
  }
  await setRegistrationLock(profile, await newPin());
  process.stdout.write(
    'Registration lock on: registering this number on a new phone now needs this PIN after the SMS code.\n',
  );
  return 0;
}
