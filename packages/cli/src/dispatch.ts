/**
 * Dispatch for the `parley` command: one module per command, loaded lazily (so only
 * `serve` loads the server). Returns the exit code: 0 ok, 1 failure, 2 bad usage.
 */
import { UsageError } from './errors.js';

export interface Command {
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<number | undefined>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./commands/serve.js'),
  migrate: () => import('./commands/migrate.js'),
  register: () => import('./commands/register.js'),
  link: () => import('./commands/link.js'),
  chat: () => import('./commands/chat.js'),
  send: () => import('./commands/send.js'),
  download: () => import('./commands/download.js'),
  listen: () => import('./commands/listen.js'),
  devices: () => import('./commands/devices.js'),
  account: () => import('./commands/account.js'),
  pin: () => import('./commands/pin.js'),
  profile: () => import('./commands/profile.js'),
  admin: () => import('./commands/admin.js'),
};

export const HELP = `Usage: parley <command> [options]

Commands:
  serve      run a Parley server (parley serve --help for its settings)
  migrate    apply the store's schema migrations (SQLite or PostgreSQL) and exit
  register   register this machine as a device (by phone, or with a link code) and
             publish its encryption keys
  link       on the primary device: print a code that links a new device
  chat       interactive chat in the terminal (files, safety numbers, local history)
  send       send a message (from flags or JSON lines on stdin)
  download   save the file of a message "parley chat" showed (resumes when run again)
  listen     print incoming messages as JSON lines
  devices    list this account's devices, or remove one
  account    delete this account for good (account delete, from the primary device)
  pin        the registration lock: set, change or remove the PIN a new phone needs
  profile    show or set your name, about text and avatar (end-to-end encrypted)
  admin      moderation against the node's store: reports, suspensions, stats

Run "parley <command> --help" for a command's options.
Messages and files are end-to-end encrypted (Signal protocol): the server relays
ciphertext only. A profile's keys are in $PARLEY_HOME/<profile>.keys.db, and the messages
"parley chat" has read in <profile>.history.db (both readable by you only).
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(HELP);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) throw new UsageError(`unknown command "${name}"; run "parley --help"`);
  const command = await load();
  return (await command.run(rest, env)) ?? 0;
}
