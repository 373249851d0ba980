// The Media seam: how a prepared installer reaches a box and how the box is made to boot its own disk again. One
// small module per method (qemu drive, operator, USB/SD mux, iPXE over HTTP, BMC virtual media); the install flow
// only sees attach/detach.
import type { ReleaseArch } from '../release/asset-names.ts';

/** Everything a method may need to put the installer in front of a box. */
export interface InstallerMedia {
  /** The prepared installer.raw (the harness's CONFIG written into it). */
  image: string;
  /**
   * The kernel command line the prepared CONFIG partition's grub.cfg produces (consoles, getty, installer options),
   * for methods that boot the installer without that partition (iPXE).
   */
  kernelArgs: string[];
  /** The release's folder: methods that boot other assets of it (installer-net.tar) find them here. */
  releaseDir: string;
  arch: ReleaseArch;
}

/**
 * What attach leaves to others: by default eve-qual powers the box into the installer; `operator` means a person
 * boots it (the flow then only waits for the installer's start line).
 */
export interface AttachOutcome {
  boots: 'eve-qual' | 'operator';
}

export interface BootMedia {
  /** The profile's media.type. */
  readonly method: string;
  /** Make the next power-on boot the installer (the box is off). */
  attach(media: InstallerMedia): Promise<AttachOutcome | void>;
  /** Make the next power-on boot the box's own disk. */
  detach(): Promise<void>;
  /** Release whatever attach acquired (servers, mux ports). Idempotent. */
  close(): Promise<void>;
}
