// Which enumerated USB device a declaration stands for: by what the device is (its identity and class, judged from
// its interfaces and the drivers bound to them, not a single class code) and where it is plugged (the sysfs name).
// Root hubs are part of the controller, not a device, and a device holding a disk EVE runs from is EVE's own: neither
// ever matches, so a declaration can never be proven by the controller or by the install stick.
import type { Profile } from '../lib/profile/schema.ts';
import type { SystemDisk, UsbDevice, UsbView } from './usb-sysfs.ts';

export type UsbDeclaration = Profile['hardware']['usb'][number];

/** Interface class codes (bInterfaceClass:SubClass:Protocol prefixes) of CDC network functions and RNDIS. */
const NETWORK_CLASSES = ['02:06:', '02:0d:', 'e0:01:03', 'ef:04:01'];

/** Whether the device is of the declared class, by what it is. */
export function isOfClass(d: UsbDevice, cls: NonNullable<UsbDeclaration['class']>): boolean {
  const ifs = d.interfaces;
  switch (cls) {
    case 'mass-storage':
      return ifs.some((i) => i.cls.startsWith('08:'));
    case 'hid':
      return ifs.some((i) => i.cls.startsWith('03:'));
    case 'hub':
      return d.deviceClass === '09';
    case 'serial':
      // CDC ACM (02:02), or a vendor-specific adapter (FTDI, PL2303, CP210x: class ff) that a usb-serial driver
      // claimed: it then provides a ttyUSB port. A class ff interface without one is not known to be serial.
      return ifs.some((i) => i.cls.startsWith('02:02:') || i.ttys.some((t) => /^tty(USB|ACM)\d+$/.test(t)));
    case 'network':
      return ifs.some((i) => i.nets.length > 0 || NETWORK_CLASSES.some((c) => i.cls.startsWith(c)));
  }
}

export function isRootHub(d: UsbDevice): boolean {
  return /^usb\d+$/.test(d.name) || d.devpath === '0';
}

/** The disk EVE runs from that sits on this device (under its sysfs directory), if any. */
export function systemDiskOn(d: UsbDevice, view: UsbView): SystemDisk | undefined {
  return view.systemDisks.find((s) => s.sysPath.startsWith(`${d.sysPath}/`));
}

/** Why a device can never stand for a declaration, or undefined when it can. */
export function excludedBecause(d: UsbDevice, view: UsbView): string | undefined {
  if (isRootHub(d)) return `${d.name} is a root hub (part of the USB controller)`;
  const sys = systemDiskOn(d, view);
  if (sys) return `${d.name} holds a disk EVE runs from (${sys.why}: ${sys.sysPath})`;
  return undefined;
}

/** Whether the device has the declared identity; a declaration without one matches nothing. */
export function hasIdentity(d: UsbDevice, want: UsbDeclaration): boolean {
  if (!want.vendorProduct && !want.class) return false;
  if (want.vendorProduct && d.id !== want.vendorProduct) return false;
  return !want.class || isOfClass(d, want.class);
}

export interface Match {
  device?: UsbDevice;
  /** Devices set aside, each with why (root hubs, EVE's own disk). */
  excluded: string[];
  /** Why nothing matched, for the failure message. */
  why?: string;
}

/** The first unclaimed device with the declared identity on the declared port (any port when none is declared). */
export function matchDeclared(view: UsbView, want: UsbDeclaration, claimed: ReadonlySet<string>): Match {
  const excluded = view.devices.flatMap((d) => {
    const why = excludedBecause(d, view);
    return why ? [why] : [];
  });
  const eligible = view.devices.filter((d) => !excludedBecause(d, view) && !claimed.has(d.name));
  const same = eligible.filter((d) => hasIdentity(d, want));
  const device = same.find((d) => !want.port || d.name === want.port);
  if (device) return { device, excluded };
  const what = [want.vendorProduct, want.class].filter(Boolean).join(' ');
  const notCounted = excluded.length ? `; not counted: ${excluded.join('; ')}` : '';
  if (same.length > 0) return { excluded, why: `no ${what} on port ${want.port}: found on ${same.map((d) => d.name).join(', ')}${notCounted}` };
  const at = want.port ? view.devices.find((d) => d.name === want.port) : undefined;
  const there = at ? ` (on ${want.port}: ${at.id}${claimed.has(at.name) ? ', matched by another declaration' : ''})` : '';
  return { excluded, why: `no ${what} enumerated${want.port ? ` on port ${want.port}` : ''}${there}${notCounted}` };
}
