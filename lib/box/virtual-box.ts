// From a virtual box's profile to a QemuBox: every item declared under hardware: becomes a QEMU device, except the
// seeded defects (virtual.defects) that deliberately omit, unplug or break one, so the suites can be shown to
// catch a missing NIC, an absent USB stick, or a watchdog that never resets the box.
import fs from 'node:fs';
import path from 'node:path';
import type { Console } from '../console/console.ts';
import { ConfigError } from '../errors.ts';
import type { BootMedia, InstallerMedia } from '../media/boot-media.ts';
import { IpxeHttpMedia } from '../media/ipxe-http-media.ts';
import type { Power } from '../power/power.ts';
import type { Profile } from '../profile/schema.ts';
import type { Box, SshEndpoint } from './box.ts';
import type { QemuDisk, QemuNic, QemuWatchdog } from './qemu-machine.ts';
import { QemuBox } from './qemu-box.ts';

export interface VirtualBoxOptions {
  /** Where disks, firmware variables and TPM state live. */
  stateDir: string;
  consoleLog?: string;
  /** Host loopback port forwarded to the box's port 22 (on its first NIC). */
  sshPort: number;
}

/** The virtual box's install disk in its state folder (kept with the run, so `run --resume` boots it again). */
export function installedDiskOf(stateDir: string): string {
  return path.join(stateDir, 'target.raw');
}

function sparseFile(file: string, sizeMb: number): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, sizeMb * 1024 * 1024);
    fs.closeSync(fd);
  }
  return file;
}

/** The xhci root port a declared sysfs name (<bus>-<port>) stands for: QEMU numbers the root ports, the guest's bus
 * is the controller's USB 2 or USB 3 root hub, whichever the device's speed takes. */
function rootPortOf(name: string, port: string): number {
  const m = /^\d+-(\d+)$/.exec(port);
  if (!m || Number(m[1]) > 4) throw new ConfigError(`usb ${name}: port ${port}: a virtual box plugs USB devices into root ports 1-4 of its xhci controller only (<bus>-<1..4>)`, { where: `hardware.usb.${name}.port` });
  return Number(m[1]);
}

/** QEMU's MAC for NIC i of a box: locally administered, stable per box name. */
function macFor(box: string, i: number): string {
  let h = 0;
  for (const c of box) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const b = [0x52, 0x54, 0x00, (h >>> 16) & 0xff, (h >>> 8) & 0xff, (h + i) & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function virtualBoxFromProfile(profile: Profile, opts: VirtualBoxOptions): QemuBox {
  const v = profile.virtual;
  if (!v) throw new Error(`profile of ${profile.box.name} has no virtual: section`);
  const hw = profile.hardware;
  const omitted = new Set(v.defects.flatMap((d) => ('omit' in d ? [d.omit] : [])));
  const unplugged = new Set(v.defects.flatMap((d) => ('unplug' in d ? [d.unplug] : [])));
  const neverResets = v.defects.some((d) => 'watchdogNeverResets' in d);

  const disks: QemuDisk[] = [];
  if (v.targetDisk) {
    const installName = profile.install.disk;
    const declared = hw.storage.find((s) => s.device === installName);
    disks.push({
      id: 'target',
      file: sparseFile(installedDiskOf(opts.stateDir), v.targetDisk.sizeMb),
      bus: v.targetDisk.bus,
      serial: declared?.name ?? 'target',
      bootIndex: 1,
    });
  }
  for (const u of hw.usb) {
    if (!u.storage || omitted.has(`usb.${u.name}`)) continue;
    // A plug defect makes the stick differ from its declaration (smaller, write-protected, in another port).
    const plug = v.defects.flatMap((d) => ('plug' in d && d.plug === `usb.${u.name}` ? [d] : []))[0];
    const port = plug?.port ?? u.port;
    disks.push({
      id: `usb-${u.name}`,
      file: sparseFile(path.join(opts.stateDir, `usb-${u.name}.raw`), plug?.sizeMb ?? u.sizeMb ?? 64),
      bus: 'usb',
      serial: u.name,
      ...(plug?.readOnly ? { readonly: true } : {}),
      ...(port ? { usbPort: rootPortOf(u.name, port) } : {}),
    });
  }
  const nics: QemuNic[] = [];
  hw.ethernet.forEach((e, i) => {
    if (omitted.has(`ethernet.${e.name}`)) return;
    nics.push({
      id: `net-${e.name}`,
      model: e.model ?? 'virtio-net-pci',
      mac: macFor(profile.box.name, i),
      ...(nics.length === 0 ? { forwards: [{ hostPort: opts.sshPort, guestPort: 22 }] } : {}),
      linkUp: !unplugged.has(`ethernet.${e.name}`) && e.cabled,
    });
  });
  let watchdog: QemuWatchdog | undefined;
  if (hw.watchdog && !omitted.has('watchdog')) {
    watchdog = { model: /itco/i.test(hw.watchdog.driver) ? 'itco' : 'i6300esb', action: neverResets ? 'none' : 'reset' };
  }
  const box = new QemuBox({
    name: profile.box.name,
    arch: profile.box.arch,
    memoryMb: v.memoryMb,
    cpus: v.cpus,
    disks,
    nics,
    ...(watchdog ? { watchdog } : {}),
    tpm: Boolean(hw.tpm) && !omitted.has('tpm'),
    ...(profile.box.sample ? { smbiosSerial: profile.box.sample } : {}),
    stateDir: opts.stateDir,
    ...(opts.consoleLog ? { consoleLog: opts.consoleLog } : {}),
    console: {
      ...(profile.console.charDelayMs !== undefined ? { charDelayMs: profile.console.charDelayMs } : {}),
    },
  });
  if (profile.media.type === 'virtual') box.installerBus = profile.media.bus;
  return box;
}

/** A boot media method that boots the box over the network from a script URL (ipxe-http). */
export interface NetbootMedia extends BootMedia {
  /** The URL of the script the box must chain, as the runner listens; set once attach has run. */
  readonly scriptUrl: string | undefined;
}

/**
 * A virtual box that netboots its installer (media ipxe-http): attach serves the release's netboot set (the media)
 * and makes QEMU hand the script's URL to the first NIC by DHCP with that NIC first in the boot order; detach turns
 * both off again, so the next power-on boots the disk. Everything else is the QemuBox's.
 */
export class NetbootVirtualBox implements Box {
  readonly name: string;
  #closed = false;

  constructor(
    readonly qemu: QemuBox,
    readonly media: NetbootMedia,
  ) {
    this.name = qemu.name;
  }

  get console(): Console {
    return this.qemu.console;
  }

  get power(): Power {
    return this.qemu.power;
  }

  async attachInstaller(m: InstallerMedia): Promise<void> {
    await this.media.attach(m);
    const url = this.media.scriptUrl;
    if (!url) throw new Error(`${this.media.method} media attached without a script URL`);
    this.qemu.netbootFrom(url);
    this.qemu.console.note(`netboot: DHCP boot file ${this.qemu.netbootUrl} on ${this.qemu.opts.nics?.[0]?.id}, network first`);
  }

  async detachInstaller(): Promise<void> {
    this.qemu.netbootFrom(null);
    await this.media.detach();
  }

  poweredOff(): Promise<string> | null {
    return this.qemu.poweredOff();
  }

  sshEndpoint(): SshEndpoint {
    return this.qemu.sshEndpoint();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.qemu.close();
    } finally {
      await this.media.close();
    }
  }
}

/**
 * The Box of a virtual profile: its QemuBox, or, for media ipxe-http, that box netbooting its installer from an
 * IpxeHttpMedia on media.listen (the runner's loopback is fine, port 0 included: the VM reaches it as 10.0.2.2).
 * amd64 only for ipxe-http (QemuBox.netbootFrom says why).
 */
export function virtualBoxWithMedia(profile: Profile, opts: VirtualBoxOptions & { say?: (line: string) => void }): QemuBox | NetbootVirtualBox {
  if (profile.media.type !== 'ipxe-http') return virtualBoxFromProfile(profile, opts);
  if (profile.box.arch !== 'amd64') {
    throw new ConfigError(`media.type ipxe-http: network boot of a virtual ${profile.box.arch} box is not supported (QEMU's iPXE option ROMs are x86 EFI only); use media: {type: virtual}`, { where: 'media.type' });
  }
  const qemu = virtualBoxFromProfile(profile, opts);
  const media = new IpxeHttpMedia({ listen: profile.media.listen, box: profile.box.name, ...(opts.say ? { say: opts.say } : {}) });
  return new NetbootVirtualBox(qemu, media);
}
