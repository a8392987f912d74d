/**
 * Builds the config from defaults < PARLEY_* env < flags, and fails naming the setting.
 * Secrets are never printed: errors show the setting name and the problem, not the value.
 */
import { readFileSync } from 'node:fs';
import { ParleyError } from '@parley/protocol';
import { pushProviderSecretKeys } from '../adapters/push/config.js';
import { settingDescriptions } from './descriptions.js';
import { type Config, type ConfigInput, type ConfigKey, configSchema } from './schema.js';

export const configKeys = Object.keys(configSchema.shape) as ConfigKey[];

/** Secrets that may also come from a file named by PARLEY_<NAME>_FILE (e.g. a mounted secret). */
export const fileSettingKeys: readonly ConfigKey[] = [
  'serverSecret',
  'turnSecret',
  'smsHttpAuthHeader',
  'smsTwilioAuthToken',
  'smsTwilioApiKeySecret',
  'smsWebhookSecret',
  ...pushProviderSecretKeys,
];

export function envName(key: string): string {
  return `PARLEY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses `--name value`, `--name=value` and bare boolean `--name` flags into config keys. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const byFlag = new Map(configKeys.map((k) => [flagName(k), k]));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ParleyError('INVALID_ARGUMENT', `unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = byFlag.get(name);
    if (!key) throw new ParleyError('INVALID_ARGUMENT', `unknown flag --${name} (see --help)`);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else {
        value = 'true';
      }
    }
    out[key] = value;
  }
  return out;
}

export function loadConfig(options: {
  env?: NodeJS.ProcessEnv;
  argv?: readonly string[];
  overrides?: ConfigInput;
}): Config {
  const raw: Record<string, unknown> = {};
  const env = options.env ?? {};
  for (const key of configKeys) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  for (const key of fileSettingKeys) {
    const file = env[`${envName(key)}_FILE`];
    if (file === undefined || file === '') continue;
    if (raw[key] !== undefined) {
      throw new ParleyError('INVALID_ARGUMENT', `set ${envName(key)} or ${envName(key)}_FILE, not both`);
    }
    try {
      raw[key] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ParleyError(
        'INVALID_ARGUMENT',
        `cannot read ${envName(key)}_FILE (${file}): ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  Object.assign(raw, parseFlags(options.argv ?? []), options.overrides ?? {});
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `invalid setting ${key} (--${flagName(key)} / ${envName(key)}): ${issue.message}`,
    );
  }
  return parsed.data;
}

/** The help text listing every setting with its flag, env name, default and what it does. */
export function settingsHelp(width = 100): string {
  const defaults = configSchema.parse({});
  return configKeys
    .map((k) => {
      const env = fileSettingKeys.includes(k) ? `${envName(k)} (or _FILE)` : envName(k);
      const value = defaults[k] === undefined ? 'none' : JSON.stringify(defaults[k]);
      return [
        `  --${flagName(k)}  ${env}  default: ${value}`,
        ...wrap(settingDescriptions[k], width - 6, '      '),
      ].join('\n');
    })
    .join('\n');
}

/** `text` in lines of at most `width` characters (a longer word gets a line of its own), indented. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}
