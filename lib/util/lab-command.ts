// One lab command (a relay script, a PDU CLI, an SD mux tool): an argv array run without a shell, under a deadline,
// killed with the run (setpriv --pdeathsig), its failure turned into a LabError that names the command, the driver
// and the last line it said. Shared by command power and the USB/SD mux media method.
import { execa } from 'execa';
import { ConfigError, LabError, formatMs } from '../errors.ts';
import { underDeathSignal } from './child.ts';

export interface LabCommandOptions {
  /** The driver, as errors name it (command:relay.sh, usb-sd-mux:sd-mux-ctrl). */
  where: string;
  /** What the command is for, in errors: "power on", "media write". */
  what: string;
  cwd?: string;
  /** Deadline, ms (default 30 s). */
  timeoutMs?: number;
}

/** Fill {name} placeholders; unknown names are a ConfigError naming the field. */
export function fillPlaceholders(argv: readonly string[], vars: Readonly<Record<string, string>>, field: string): string[] {
  if (argv.length === 0 || !argv[0]) throw new ConfigError(`${field}: needs a command (an argv array)`);
  return argv.map((arg) =>
    arg.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new ConfigError(`${field}: unknown placeholder {${name}} (known: ${Object.keys(vars).map((k) => `{${k}}`).join(', ')})`);
      return v;
    }),
  );
}

/**
 * The last lines a failed command said, on one line: the cause is often not the last line (dd names the device and
 * errno, then prints its record and byte counts).
 */
function saidLast(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-4);
  const one = lines.join(' / ');
  return one.length > 400 ? `…${one.slice(-400)}` : one;
}

/** Run it; resolves with its stdout, throws LabError on a timeout, a missing program or a non-zero exit. */
export async function runLabCommand(argv: readonly string[], o: LabCommandOptions): Promise<string> {
  const ms = o.timeoutMs ?? 30_000;
  const [file, args] = underDeathSignal(argv[0]!, argv.slice(1));
  // Under setpriv, a missing program is setpriv's exit 127, not ENOENT.
  const wrapped = file !== argv[0];
  const r = await execa(file, args, { cwd: o.cwd, reject: false, stdin: 'ignore', timeout: ms, killSignal: 'SIGKILL', cleanup: true });
  const shown = argv.join(' ');
  const said = saidLast(String(r.stderr ?? '').trim() || String(r.stdout ?? '').trim());
  if (r.timedOut) throw new LabError(`${o.where}: ${o.what} command \`${shown}\` did not finish within ${formatMs(ms)} (killed)`, { where: o.where });
  const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || (wrapped && r.exitCode === 127 && /No such file|failed to execute/.test(String(r.stderr))))
    throw new LabError(`${o.where}: ${o.what} command not found: ${argv[0]}`, { where: o.where });
  if (r.exitCode !== 0)
    throw new LabError(`${o.where}: ${o.what} command \`${shown}\` ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`}${said ? `: ${said}` : ''}`, { where: o.where });
  return String(r.stdout ?? '');
}
