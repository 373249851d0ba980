// Boot media by hand: eve-qual tells the operator exactly what to write where (the dd command with the prepared
// image's path, the port on the box) and then lets the installer announce itself: the install flow does not power
// the box into the installer, it waits for the installer's start line on the console (no keypress to say "done").
// Before the box boots its own disk the stick must come out, or it would install again: that is the one question
// the operator has to answer.
import path from 'node:path';
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import { LabError } from '../errors.ts';
import type { AttachOutcome, BootMedia, InstallerMedia } from './boot-media.ts';

export interface OperatorMediaOptions {
  box: string;
  /** The box's port the stick goes into, as the profile names it (media.port). */
  port?: string;
  /** Seconds the operator has to get the installer booted (install.deadlines.installerStart). */
  deadlineSeconds: number;
  /** Where instructions go (the run's progress lines). */
  say: (line: string) => void;
  prompt?: OperatorPrompt;
}

export class OperatorMedia implements BootMedia {
  readonly method = 'operator';
  #attached = false;

  constructor(readonly opts: OperatorMediaOptions) {}

  /** The instructions, one line each: printed, and kept in steps.log through the progress sink. */
  instructions(image: string): string[] {
    const where = this.opts.port ? `port ${this.opts.port} of ${this.opts.box}` : this.opts.box;
    return [
      `OPERATOR: write the installer to a USB stick (≥ its size; everything on the stick is lost):`,
      `  sudo dd if=${path.resolve(image)} of=/dev/sdX bs=4M conv=fsync status=progress`,
      `  (/dev/sdX is the stick: check with lsblk before and after plugging it into this machine)`,
      `OPERATOR: plug the stick into ${where}, then power ${this.opts.box} on (or reset it) so it boots the stick`,
      `  (boot menu or firmware boot order). eve-qual watches the console for the installer's start line for ${this.opts.deadlineSeconds} s.`,
    ];
  }

  async attach(media: InstallerMedia): Promise<AttachOutcome> {
    for (const l of this.instructions(media.image)) this.opts.say(l);
    this.#attached = true;
    return { boots: 'operator' };
  }

  async detach(): Promise<void> {
    if (!this.#attached) return;
    const where = this.opts.port ? ` from port ${this.opts.port}` : '';
    const ask = `OPERATOR: remove the installer stick${where} of ${this.opts.box} (it would install again), then press Enter`;
    if (!this.opts.prompt) throw new LabError(`${ask}: no operator is attached to this run`, { where: `operator:${this.opts.box}` });
    this.opts.say(ask);
    await this.opts.prompt(ask);
    this.#attached = false;
  }

  async close(): Promise<void> {}
}
