// What the box's sysfs says about its USB devices, its block devices and the disks EVE runs from, read in one shell
// script (busybox sh in EVE's debug container, which has the host's /sys and /proc) and parsed here, so the matching
// is plain data that unit tests feed from recorded listings.
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';

export interface UsbInterface {
  /** sysfs name, e.g. 2-1:1.0 */
  name: string;
  /** bInterfaceClass:bInterfaceSubClass:bInterfaceProtocol in hex, e.g. 08:06:50 */
  cls: string;
  /** The bound driver's name, '' when none is bound. */
  driver: string;
  /** Serial ttys the interface provides (ttyACM0, ttyUSB0). */
  ttys: string[];
  /** Network interfaces it provides. */
  nets: string[];
}

export interface UsbDevice {
  /** sysfs name: usbN for a root hub, <bus>-<port>[.<port>...] for a device. */
  name: string;
  /** idVendor:idProduct */
  id: string;
  /** bDeviceClass in hex (00: the interfaces say). */
  deviceClass: string;
  /** devpath: 0 for a root hub. */
  devpath: string;
  /** Negotiated speed in Mbit/s as sysfs prints it (1.5, 12, 480, 5000...). */
  speed: string;
  /** The device's real sysfs directory (/sys/devices/...). */
  sysPath: string;
  interfaces: UsbInterface[];
}

export interface BlockDevice {
  name: string;
  sysPath: string;
  sectors: number;
  readOnly: boolean;
}

/** A disk EVE runs from (the install disk, or the disk under a mount EVE lives on). */
export interface SystemDisk {
  why: string;
  sysPath: string;
}

export interface UsbView {
  devices: UsbDevice[];
  blocks: BlockDevice[];
  systemDisks: SystemDisk[];
}

/** The script: one `dev`, `if`, `blk` or `sys` line per thing, fields separated by spaces, '-' for none. */
export function listingScript(installDisk: string | undefined): string {
  return [
    'for d in /sys/bus/usb/devices/*; do',
    '  [ -f $d/idVendor ] || continue',
    '  n=${d##*/}',
    '  echo "dev $n $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/bDeviceClass) $(cat $d/devpath 2>/dev/null || echo -) $(cat $d/speed 2>/dev/null || echo -) $(readlink -f $d)"',
    '  for i in $d/*:*; do',
    '    [ -f $i/bInterfaceClass ] || continue',
    '    drv=-; [ -e $i/driver ] && drv=$(basename "$(readlink $i/driver)")',
    '    tty=$(ls -d $i/tty/tty* $i/ttyUSB* 2>/dev/null | sed "s|.*/||" | tr "\\n" ,)',
    '    net=$(ls $i/net 2>/dev/null | tr "\\n" ,)',
    '    echo "if $n ${i##*/} $(cat $i/bInterfaceClass):$(cat $i/bInterfaceSubClass):$(cat $i/bInterfaceProtocol) $drv ${tty:--} ${net:--}"',
    '  done',
    'done',
    'for b in /sys/block/*; do echo "blk ${b##*/} $(cat $b/size) $(cat $b/ro) $(readlink -f $b)"; done',
    installDisk ? `p=$(readlink -f /sys/block/${installDisk} 2>/dev/null) && [ -e "$p" ] && echo "sys install.disk $p"` : '',
    // The host's mounts (pid 1) and the debug container's: the disk under /, /persist, /config, /hostfs.
    "cat /proc/1/mountinfo /proc/self/mountinfo 2>/dev/null | awk '$5==\"/\"||$5==\"/persist\"||$5==\"/config\"||$5==\"/hostfs\"{print $5, $3}' | sort -u |",
    '  while read mp mm; do p=$(readlink -f /sys/dev/block/$mm 2>/dev/null) && [ -e "$p" ] || continue; [ -f "$p/partition" ] && p=${p%/*}; echo "sys mounted-on-$mp $p"; done',
    'true',
  ].join('\n');
}

function list(field: string | undefined): string[] {
  return !field || field === '-' ? [] : field.split(',').filter(Boolean);
}

export function parseListing(text: string): UsbView {
  const view: UsbView = { devices: [], blocks: [], systemDisks: [] };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'dev' && f.length >= 7) {
      view.devices.push({ name: f[1]!, id: f[2]!, deviceClass: f[3]!, devpath: f[4]!, speed: f[5]!, sysPath: f[6]!, interfaces: [] });
    } else if (f[0] === 'if' && f.length >= 7) {
      const dev = view.devices.find((d) => d.name === f[1]);
      dev?.interfaces.push({ name: f[2]!, cls: f[3]!, driver: f[4] === '-' ? '' : f[4]!, ttys: list(f[5]), nets: list(f[6]) });
    } else if (f[0] === 'blk' && f.length >= 5) {
      view.blocks.push({ name: f[1]!, sectors: Number(f[2]), readOnly: f[3] === '1', sysPath: f[4]! });
    } else if (f[0] === 'sys' && f.length >= 3) {
      view.systemDisks.push({ why: f[1]!, sysPath: f[2]! });
    }
  }
  return view;
}

export async function readUsbView(ctx: SuiteContext): Promise<UsbView> {
  const r = await read(ctx, `sh -c ${q(listingScript(ctx.profile.install.disk))}`);
  return parseListing(r.out);
}

/** One line per device for the facts: where, what, how fast, and each interface with its driver. */
export function describeDevice(d: UsbDevice): string {
  const ifs = d.interfaces.map((i) => `${i.cls}${i.driver ? ` ${i.driver}` : ''}${[...i.ttys, ...i.nets].map((x) => ` ${x}`).join('')}`);
  return `${d.name} ${d.id} class ${d.deviceClass} ${d.speed} Mbps${ifs.length ? ` [${ifs.join('; ')}]` : ''}`;
}
