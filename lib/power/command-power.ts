// Power by the lab's own commands (a relay board, a smart plug's CLI, a lab script): `on`, `off` and optionally
// `status` from the profile, each an argv array run without a shell. Placeholders {name} in the arguments are filled
// from known values ({box}, {sample}, {profileDir}...); an unknown one is a config error before anything runs.
// A status command must print `on` or `off` (the first such word wins); without one, state() is `unknown`.
// Each command has a deadline: a hanging relay script is killed and reported, as is a non-zero exit.
import { LabError } from '../errors.ts';
import { fillPlaceholders, runLabCommand } from '../util/lab-command.ts';
import type { PowerState } from './power.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

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

  #run(which: 'on' | 'off' | 'status'): Promise<string> {
    return runLabCommand(this.#cmds[which]!, { where: this.where, what: `power ${which}`, ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}), timeoutMs: this.opts.commandTimeoutMs ?? 30_000 });
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
