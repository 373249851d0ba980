// Command-line entry: dispatches subcommands, maps errors to the exit codes of the contract
// (0 ok, 1 checks failed, 2 bad input or usage, 3 lab or harness error).
import { ConfigError, EveQualError, ExitCode, exitCodeFor } from '../errors.ts';
import { diskFault } from '../util/disk-fault.ts';
import { gitRevision, packageVersion } from './version.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Command[] = [];

export function registerCommand(c: Command): void {
  commands.push(c);
}

/** Subcommands of the contract that later work fills in; listed so --help shows the whole tool. */
const planned: Array<[string, string]> = [
  ['run', '--profile FILE --release SRC [--level N] [--out DIR] [--sample SERIAL] [--operator ORG] [--no-install]'],
  ['install', '--profile FILE --release SRC [--out DIR]'],
  ['profile', 'validate FILE... | init'],
  ['qualify', 'RUN... [--program FILE] [--json]'],
  ['report', 'RUN... --html FILE'],
  ['diff', 'RUN_A RUN_B'],
  ['console', '--profile FILE'],
  ['power', 'on|off|cycle|status --profile FILE'],
  ['release', 'verify SRC --arch ARCH'],
];

export function helpText(): string {
  const lines = [
    'eve-qual: qualify hardware for EVE-OS',
    '',
    'Usage: eve-qual <command> [options]',
    '',
    'Commands:',
  ];
  const names = new Set(commands.map((c) => c.name));
  for (const c of commands) lines.push(`  ${c.name.padEnd(9)} ${c.usage}`, `  ${''.padEnd(9)} ${c.summary}`);
  for (const [name, usage] of planned) if (!names.has(name)) lines.push(`  ${name.padEnd(9)} ${usage}  (not yet available)`);
  lines.push(
    '',
    'Options:',
    '  -h, --help     show this help (or `eve-qual <command> --help`)',
    '  -V, --version  show the version',
    '',
    'Exit codes: 0 ok (level met), 1 checks failed, 2 bad input or usage, 3 lab or harness error.',
  );
  return lines.join('\n');
}

async function loadCommands(): Promise<void> {
  if (commands.length) return;
  const { installCommand } = await import('./install-command.ts');
  const { profileCommand } = await import('./profile-command.ts');
  const { runCommand } = await import('./run-command.ts');
  const { qualifyCommand } = await import('./qualify-command.ts');
  const { reportCommand } = await import('./report-command.ts');
  const { diffCommand } = await import('./diff-command.ts');
  const { checkCommand } = await import('./check-command.ts');
  const { powerCommand } = await import('./power-command.ts');
  const { consoleCommand } = await import('./console-command.ts');
  const { releaseCommand } = await import('./release-command.ts');
  commands.push(releaseCommand, runCommand, installCommand, profileCommand, qualifyCommand, reportCommand, diffCommand, checkCommand, powerCommand, consoleCommand);
}

export async function main(argv: string[]): Promise<number> {
  await loadCommands();
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    console.log(helpText());
    return first === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (first === '-V' || first === '--version') {
    const rev = gitRevision();
    console.log(`eve-qual ${packageVersion()}${rev ? ` (${rev})` : ''}`);
    return ExitCode.ok;
  }
  const cmd = commands.find((c) => c.name === first);
  try {
    if (!cmd) {
      const known = planned.some(([n]) => n === first);
      throw new ConfigError(
        known ? `eve-qual ${first} is not available in this version yet` : `unknown command '${first}' (see eve-qual --help)`,
      );
    }
    return await cmd.run(rest);
  } catch (caught) {
    // A full or failing disk anywhere (a download, the media) is a lab fault told in one line, not an internal error.
    const err = diskFault(caught, (caught as NodeJS.ErrnoException)?.path ?? 'a file') ?? caught;
    if (err instanceof EveQualError) {
      console.error(`eve-qual: ${err.errorClass === 'config' ? '' : `${err.errorClass} error: `}${err.describe()}`);
    } else {
      console.error(`eve-qual: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    return exitCodeFor(err);
  }
}
