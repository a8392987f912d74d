/** `parley devices [remove ID]`: lists this account's devices, or removes one. */
import { listDevices, removeDevice } from '@parley/sdk';
import { COMMON_HELP, parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import { deleteProfile } from '../profile.js';
import { loadSessionProfile } from '../session.js';

const HELP = `Usage: parley devices [--profile NAME]
       parley devices remove DEVICE_ID [--profile NAME]

Lists the devices of this account (* marks this one), or removes one. The primary may
remove any device; any device may remove itself (this deletes its local profile).

Options:
${COMMON_HELP}
`;

function date(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) : '-';
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals, help } = parseCommand({ help: HELP, options: {}, maxPositionals: 2 }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { profile, paths } = await loadSessionProfile(values, env);
  const [action, deviceId] = positionals;
  if (action === undefined) {
    const devices = await listDevices(profile);
    for (const d of devices) {
      const mark = d.deviceId === profile.deviceId ? '*' : ' ';
      const role = d.primary ? 'primary' : 'linked ';
      process.stdout.write(
        `${mark} ${d.deviceId}  ${role}  created ${date(d.createdAt)}  last seen ${date(d.lastSeenAt)}  ${d.name}\n`,
      );
    }
    return 0;
  }
  if (action !== 'remove') throw new UsageError(`unknown action "${action}"; did you mean "remove"?`);
  if (deviceId === undefined) throw new UsageError('missing DEVICE_ID: parley devices remove DEVICE_ID');
  await removeDevice(profile, deviceId);
  if (deviceId === profile.deviceId) {
    await deleteProfile(paths);
    process.stdout.write(`Removed this device (${deviceId}) and deleted its local profile.\n`);
  } else {
    process.stdout.write(`Removed device ${deviceId}.\n`);
  }
  return 0;
}
