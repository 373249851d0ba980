// A real box: a console link (serial adapter, terminal server, BMC SOL), a power driver and a boot media method, as
// its profile names them. It cannot see itself power off (poweredOff() is null), so the install flow goes by the
// console; SSH is at the profile's address. Closing releases the console and media but leaves the power as it is:
// a lab box is not ours to switch off when a run ends (the next run powers it as it needs).
import type { Console } from '../console/console.ts';
import { ConfigError } from '../errors.ts';
import type { AttachOutcome, BootMedia, InstallerMedia } from '../media/boot-media.ts';
import type { Power } from '../power/power.ts';
import type { Box, SshEndpoint } from './box.ts';

export interface RealBoxOptions {
  name: string;
  console: Console;
  power: Power;
  media: BootMedia;
  ssh: { host?: string | undefined; port: number };
}

export class RealBox implements Box {
  readonly name: string;
  readonly console: Console;
  readonly power: Power;
  readonly media: BootMedia;
  #closed = false;

  constructor(readonly opts: RealBoxOptions) {
    this.name = opts.name;
    this.console = opts.console;
    this.power = opts.power;
    this.media = opts.media;
  }

  /** Open the console link (a terminal server that refuses is a lab error, raised before anything is switched). */
  async open(): Promise<void> {
    await this.console.open();
  }

  attachInstaller(media: InstallerMedia): Promise<AttachOutcome | void> {
    return this.media.attach(media);
  }

  detachInstaller(): Promise<void> {
    return this.media.detach();
  }

  poweredOff(): null {
    return null;
  }

  sshEndpoint(): SshEndpoint {
    if (!this.opts.ssh.host) throw new ConfigError(`ssh.host: ${this.name} is a real box; say where SSH reaches it`, { where: 'ssh.host' });
    return { host: this.opts.ssh.host, port: this.opts.ssh.port };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.media.close().catch(() => undefined);
    await this.power.close?.().catch(() => undefined);
    await this.console.close();
  }
}
