// Manual power: an operator switches the box, asked through a prompt. Without an operator (a CI job) there is
// nobody to ask, which is a lab error, not a hang. State cannot be read back: `unknown`.
import { LabError } from '../errors.ts';
import type { PowerState } from './power.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

export interface ManualPowerOptions extends SequenceOptions {
  box: string;
  /** Shows the message and resolves when the operator says it is done. */
  prompt?: (message: string) => Promise<void>;
}

class ManualActions implements PowerActions {
  readonly readsState = false;
  readonly where: string;
  constructor(readonly opts: ManualPowerOptions) {
    this.where = `manual:${opts.box}`;
  }
  async #ask(what: string): Promise<void> {
    if (!this.opts.prompt) throw new LabError(`${this.where}: power ${what} needs an operator (power.type manual) and none is attached`, { where: this.where });
    await this.opts.prompt(`Switch ${this.opts.box} ${what.toUpperCase()} now, then press Enter`);
  }
  requestOn(): Promise<void> {
    return this.#ask('on');
  }
  requestOff(): Promise<void> {
    return this.#ask('off');
  }
  async readState(): Promise<PowerState> {
    return 'unknown';
  }
}

export class ManualPower extends SequencedPower {
  constructor(opts: ManualPowerOptions) {
    super(new ManualActions(opts), opts);
  }
}
