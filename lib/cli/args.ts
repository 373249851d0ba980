// Argument parsing for subcommands (node:util parseArgs), with usage errors as ConfigError (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.ts';

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    // node's messages can span lines (an option value that starts with a dash adds two lines of hints): one line.
    const message = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    throw new ConfigError(`eve-qual ${command}: ${message} (see eve-qual ${command} --help)`);
  }
}

export function requireOption(command: string, value: string | undefined, name: string): string {
  if (!value) throw new ConfigError(`eve-qual ${command}: --${name} is required (see eve-qual ${command} --help)`);
  return value;
}
