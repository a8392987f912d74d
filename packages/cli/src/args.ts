/**
 * Argument parsing shared by every command: node:util parseArgs in strict mode, the
 * common --profile and --help options, and UsageError (exit 2) for anything malformed.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface CommandSpec {
  /** Full --help text. */
  help: string;
  options: OptionSpec;
  /** Most positionals allowed (default 0). */
  maxPositionals?: number;
}

export interface Parsed {
  values: Values;
  positionals: string[];
  help: boolean;
}

export const COMMON_OPTIONS: OptionSpec = {
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMON_HELP = `  --profile NAME   which saved device to use (default "default"; files under $PARLEY_HOME, default ~/.parley)
  -h, --help       show this help`;

export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...spec.options },
      strict: true,
      allowPositionals: true,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${spec.help.trimEnd()}`);
  }
  const help = parsed.values.help === true;
  if (!help && parsed.positionals.length > (spec.maxPositionals ?? 0)) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[spec.maxPositionals ?? 0]}`);
  }
  return { ...parsed, help };
}

/** A string option, or undefined. */
export function optional(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A string option that must be present and non-empty. */
export function required(values: Values, name: string): string {
  const v = optional(values, name);
  if (v === undefined || v.trim() === '') throw new UsageError(`missing --${name}`);
  return v;
}
