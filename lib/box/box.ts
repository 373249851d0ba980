// The Box seam: one device under test as the install flow and the suites see it, whatever it is (a QEMU VM, a real
// box on a serial cable and a BMC). Lifecycle: off → installer → installed → shell.
import type { Console } from '../console/console.ts';
import type { AttachOutcome, InstallerMedia } from '../media/boot-media.ts';
import type { Power } from '../power/power.ts';

export interface SshEndpoint {
  host: string;
  port: number;
}

export interface Box {
  readonly name: string;
  readonly console: Console;
  readonly power: Power;
  /** Make the next power-on boot the prepared installer image. */
  attachInstaller(media: InstallerMedia): Promise<AttachOutcome | void>;
  /** Make the next power-on boot the box's own disk. */
  detachInstaller(): Promise<void>;
  /**
   * Resolves when the box is seen to power off by itself (a VM whose guest powered off). Boxes that cannot see
   * that return null: the install flow then relies on the console.
   */
  poweredOff(): Promise<string> | null;
  sshEndpoint(): SshEndpoint;
  close(): Promise<void>;
}
