// Boot media through a USB/SD mux (usbsdmux, sd-mux-ctrl, a lab's own switch): the mux is switched to the runner,
// the prepared image is written by the lab's command, and the mux is switched to the box. Detach switches it back to
// the runner, so the box no longer sees the installer and boots its own disk. Commands are argv arrays from the
// profile with {image}, {box} and {profileDir} filled in; each has a deadline (writing takes minutes).
import path from 'node:path';
import { fillPlaceholders, runLabCommand } from '../util/lab-command.ts';
import type { BootMedia, InstallerMedia } from './boot-media.ts';

export interface UsbSdMuxOptions {
  write: readonly string[];
  toBox: readonly string[];
  toHost: readonly string[];
  box: string;
  profileDir: string;
  /** Deadline of the write command, ms (default 15 min: a 1 GiB image on a slow SD card). */
  writeTimeoutMs?: number;
  say?: (line: string) => void;
}

export class UsbSdMuxMedia implements BootMedia {
  readonly method = 'usb-sd-mux';
  readonly where: string;
  #attached = false;

  constructor(readonly opts: UsbSdMuxOptions) {
    // Placeholders are checked now, so a typo in the profile is a config error before any box is touched.
    const vars = this.#vars('/image');
    fillPlaceholders(opts.write, vars, 'media.write');
    fillPlaceholders(opts.toBox, vars, 'media.toBox');
    fillPlaceholders(opts.toHost, vars, 'media.toHost');
    this.where = `usb-sd-mux:${path.basename(opts.toBox[0] ?? 'mux')}`;
  }

  #vars(image: string): Record<string, string> {
    return { image, box: this.opts.box, profileDir: this.opts.profileDir };
  }

  async #run(field: 'write' | 'toBox' | 'toHost', image: string, timeoutMs = 60_000): Promise<void> {
    const argv = fillPlaceholders(this.opts[field], this.#vars(image), `media.${field}`);
    this.opts.say?.(`  media ${field}: ${argv.join(' ')}`);
    await runLabCommand(argv, { where: this.where, what: `media ${field}`, cwd: this.opts.profileDir, timeoutMs });
  }

  async attach(media: InstallerMedia): Promise<void> {
    const image = path.resolve(media.image);
    await this.#run('toHost', image);
    await this.#run('write', image, this.opts.writeTimeoutMs ?? 15 * 60_000);
    await this.#run('toBox', image);
    this.#attached = true;
  }

  async detach(): Promise<void> {
    await this.#run('toHost', '');
    this.#attached = false;
  }

  async close(): Promise<void> {
    // Left switched to the box, the next power-on would install again: give the card back to the runner.
    if (this.#attached) await this.detach().catch(() => undefined);
  }
}
