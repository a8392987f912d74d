/**
 * `parley register`: creates a device, saves it as a profile, and publishes the device's
 * new encryption keys. By phone (SMS code, the primary device) or with a link code from the
 * primary (a linked device).
 */
import { hostname } from 'node:os';
import {
  type Credentials,
  linkDevice,
  normalizePhone,
  ParleyError,
  requestCode,
  verifyCode,
} from '@parley/sdk';
import { COMMON_HELP, optional, parseCommand, required } from '../args.js';
import { CliError, formatError, UsageError } from '../errors.js';
import {
  type Profile,
  parleyHome,
  profileExists,
  profilePaths,
  resetLocalState,
  saveProfile,
} from '../profile.js';
import { ask } from '../prompt.js';
import { publishKeys } from '../session.js';

const HELP = `Usage: parley register --phone +E164 [--server URL] [--code CODE] [--name DEVICE]
       parley register --link-code CODE [--server URL] [--name DEVICE]

Registers this machine as a Parley device and saves it as a profile.
With --phone: the server sends a 6-digit code by SMS and this device becomes the account's
primary (a previous primary is logged out). Without --code you are asked for it; a
development server writes codes to its log and to <dataDir>/sms-codes.log.
If the number has a registration lock (parley pin), you are asked for its PIN after the code.
With --link-code: joins an existing account as a linked device (get the code with
"parley link" on the primary).
The device then makes its end-to-end encryption keys (kept in <profile>.keys.db beside the
profile, readable by you only) and publishes their public halves, so others can write to it
right away. Replacing a profile (--force) starts its keys and message history afresh.

Options:
  --server URL       server address (default http://localhost:8080)
  --phone +E164      phone number in international form, e.g. +15551234567
  --code CODE        the SMS code, if you already have it
  --link-code CODE   a link code from "parley link"
  --name DEVICE      device name shown in "parley devices" (default "parley-cli on <host>")
  --force            replace an existing profile of the same name
${COMMON_HELP}
`;

const OPTIONS = {
  server: { type: 'string' },
  phone: { type: 'string' },
  code: { type: 'string' },
  'link-code': { type: 'string' },
  name: { type: 'string' },
  force: { type: 'boolean' },
} as const;

/**
 * verifyCode, asking for the registration-lock PIN while the server wants it (PIN_REQUIRED, or
 * PIN_INVALID with tries left). The SMS code stays valid meanwhile.
 */
async function verifyWithPin(
  server: string,
  input: { phone: string; code: string; deviceName: string },
): Promise<Credentials> {
  let pin: string | undefined;
  for (;;) {
    try {
      return await verifyCode(server, { ...input, ...(pin !== undefined && { pin }) });
    } catch (err) {
      if (!(err instanceof ParleyError) || (err.code !== 'PIN_REQUIRED' && err.code !== 'PIN_INVALID'))
        throw err;
      const left = err.details?.pinTriesLeft;
      const tries = typeof left === 'number' ? ` (${left} ${left === 1 ? 'try' : 'tries'} left)` : '';
      process.stderr.write(
        err.code === 'PIN_REQUIRED'
          ? `This number has a registration lock: enter its PIN${tries}.\n`
          : `Wrong PIN${tries}.\n`,
      );
      pin = await ask('PIN: ', { hidden: true, missing: 'no PIN given' });
      if (pin === '') throw new CliError('no PIN given');
    }
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: OPTIONS }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const name = optional(values, 'profile') ?? 'default';
  const paths = profilePaths(parleyHome(env), name);
  const server = optional(values, 'server') ?? 'http://localhost:8080';
  const deviceName = optional(values, 'name') ?? `parley-cli on ${hostname()}`;
  const linkCode = optional(values, 'link-code');
  if (linkCode !== undefined && values.phone !== undefined) {
    throw new UsageError('give either --phone or --link-code, not both');
  }
  if (linkCode === undefined) required(values, 'phone');
  if (!values.force && (await profileExists(paths))) {
    throw new CliError(`profile "${name}" already exists; use --force to replace it, or --profile NAME`);
  }

  let credentials: Credentials;
  let phone: string | undefined;
  if (linkCode !== undefined) {
    credentials = await linkDevice(server, { code: linkCode.trim(), deviceName });
  } else {
    phone = normalizePhone(required(values, 'phone'));
    let code = optional(values, 'code');
    if (code === undefined) {
      const sent = await requestCode(server, phone);
      const minutes = Math.round(sent.expiresInMs / 60_000);
      process.stderr.write(`A code was sent to ${sent.phone} (valid for ${minutes} min).\n`);
      code = await ask('Code: ', { missing: 'no code given' });
    }
    if (code === '') throw new CliError('no code given');
    credentials = await verifyWithPin(server, { phone, code, deviceName });
  }

  const profile: Profile = { ...credentials, ...(phone ? { phone } : {}) };
  await resetLocalState(paths);
  await saveProfile(paths, profile);
  const role = credentials.primary ? 'primary device' : 'linked device';
  process.stdout.write(
    `Registered ${phone ?? 'this machine'} as ${role} ${credentials.deviceId} of user ${credentials.userId}.\n` +
      `Saved profile "${name}" in ${paths.credentials}\n`,
  );
  process.stderr.write('Publishing encryption keys…\n');
  try {
    await publishKeys(values, env);
    process.stdout.write("Published this device's encryption keys.\n");
  } catch (err) {
    // The profile is usable: the keys go up on the next connection.
    process.stderr.write(
      `parley: could not publish encryption keys yet (${formatError(err)}); they are published the next time this profile connects\n`,
    );
  }
  return 0;
}
