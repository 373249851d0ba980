// Power by the lab's own commands (a relay board, a smart plug's CLI, a lab script): `on`, `off` and optionally
// `status` from the profile, each an argv array run without a shell. Placeholders {name} in the arguments are filled
// from known values ({box}, {sample}, {profileDir}...); an unknown one is a config error before anything runs.
// A status command must print `on` or `off` (the first such word wins); without one, state() is `unknown`.
// Each command has a deadline: a hanging relay script is killed and reported, as is a non-zero exit.
import { execa } from 'execa';
import fs from 'node:fs';
import { ConfigError, LabError, formatMs } from '../errors.ts';
import type { PowerState } from './power.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

export interface CommandPowerOptions extends SequenceOptions {
  on: readonly string[];
  off: readonly string[];
  status?: readonly string[];
  /** Values for {name} placeholders. */
  vars?: Readonly<Record<string, string>>;
  /** Working directory of the commands (the profile's folder). */
  cwd?: string;
  /** Deadline of one command, ms (default 30 s). */
  commandTimeoutMs?: number;
  /** Name in errors (default `command:<first word of on>`). */
  name?: string;
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

class CommandActions implements PowerActions {
  readonly where: string;
  readonly readsState: boolean;
  readonly #cmds: { on: string[]; off: string[]; status?: string[] };

  constructor(readonly opts: CommandPowerOptions) {
    const vars = opts.vars ?? {};
    this.#cmds = {
      on: fillPlaceholders(opts.on, vars, 'power.on'),
      off: fillPlaceholders(opts.off, vars, 'power.off'),
      ...(opts.status ? { status: fillPlaceholders(opts.status, vars, 'power.status') } : {}),
    };
    this.readsState = Boolean(opts.status);
    this.where = opts.name ?? `command:${this.#cmds.on[0]}`;
  }

  async #run(which: 'on' | 'off' | 'status'): Promise<string> {
    const argv = this.#cmds[which]!;
    const ms = this.opts.commandTimeoutMs ?? 30_000;
    const [file, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...argv]] : [argv[0]!, argv.slice(1)];
    const r = await execa(file, args, { cwd: this.opts.cwd, reject: false, stdin: 'ignore', timeout: ms, killSignal: 'SIGKILL', cleanup: true });
    const shown = argv.join(' ');
    const said = (String(r.stderr ?? '').trim() || String(r.stdout ?? '').trim()).split('\n').at(-1) ?? '';
    if (r.timedOut) throw new LabError(`${this.where}: power ${which} command \`${shown}\` did not finish within ${formatMs(ms)} (killed)`, { where: this.where });
    const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || (SETPRIV && r.exitCode === 127 && /No such file|failed to execute/.test(String(r.stderr))))
      throw new LabError(`${this.where}: power ${which} command not found: ${argv[0]}`, { where: this.where });
    if (r.exitCode !== 0)
      throw new LabError(`${this.where}: power ${which} command \`${shown}\` ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`}${said ? `: ${said}` : ''}`, { where: this.where });
    return String(r.stdout ?? '');
  }

  async requestOn(): Promise<void> {
    await this.#run('on');
  }
  async requestOff(): Promise<void> {
    await this.#run('off');
  }
  async readState(): Promise<PowerState> {
    if (!this.#cmds.status) return 'unknown';
    const out = await this.#run('status');
    const m = /\b(on|off)\b/i.exec(out);
    if (!m) throw new LabError(`${this.where}: power status command printed neither "on" nor "off": ${JSON.stringify(out.trim().slice(0, 200))}`, { where: this.where });
    return m[1]!.toLowerCase() as PowerState;
  }
}

export class CommandPower extends SequencedPower {
  constructor(opts: CommandPowerOptions) {
    super(new CommandActions(opts), opts);
  }
}
