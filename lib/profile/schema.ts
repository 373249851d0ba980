// The profile schema: one zod schema gives both the validation (every error at once, unknown fields included) and
// the TypeScript types (Profile = z.output). A profile says what a box is, how to reach it, how to power it, how
// an installer gets onto it, and what hardware it declares; suites check each declared item on the box.
import { z } from 'zod';
import { secretRefSchema } from './secret.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a name of letters, digits, dot, dash, underscore');
const seconds = z.number().positive();
const port = z.number().int().min(1).max(65535);

const serialSettings = {
  baudRate: z.number().int().positive().optional(),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).optional(),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).optional(),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).optional(),
  rtscts: z.boolean().optional(),
  xon: z.boolean().optional(),
  xoff: z.boolean().optional(),
};
const linkTiming = {
  connectTimeoutMs: z.number().int().positive().optional(),
  reconnectDeadlineMs: z.number().int().positive().optional(),
};

export const linkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('serial'), path: z.string().min(1), ...serialSettings, ...linkTiming }),
  z.strictObject({
    type: z.literal('tcp'),
    host: z.string().min(1),
    port,
    protocol: z.enum(['raw', 'telnet', 'rfc2217']).optional(),
    // telnet/rfc2217: false for a server that never answers telnet requests (QEMU's telnet chardev).
    confirmOpen: z.boolean().optional(),
    ...serialSettings,
    ...linkTiming,
  }),
  z.strictObject({ type: z.literal('qemu'), path: z.string().optional(), host: z.string().optional(), port: port.optional(), ...linkTiming }),
  z.strictObject({
    type: z.literal('process'),
    command: z.array(z.string().min(1)).min(1),
    name: z.string().optional(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    stderr: z.enum(['data', 'ignore']).optional(),
    ...linkTiming,
  }),
  // Serial-over-LAN through the BMC; fields left out default to the IPMI power section's.
  z.strictObject({
    type: z.literal('ipmi-sol'),
    host: z.string().min(1).optional(),
    port: port.optional(),
    user: z.string().optional(),
    password: secretRefSchema.optional(),
    onBusy: z.enum(['deactivate', 'fail']).optional(),
    ...linkTiming,
  }),
  // The virtual box provides its own console (a socket QEMU connects to).
  z.strictObject({ type: z.literal('virtual') }),
]);

const hostKeySchema = z.union([
  z.strictObject({ fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "must be OpenSSH's SHA256:... form (ssh-keygen -lf)") }),
  z.strictObject({ recordTo: z.string().min(1) }),
]);

const consoleSchema = z.strictObject({
  link: linkSchema,
  /** The box's own name for the port, as the kernel calls it: goes into console= (dom0_console). */
  device: z.string().regex(/^tty[A-Za-z0-9]+$/, 'must be a kernel tty name such as ttyS0, ttyS1, ttyAMA0, ttyUSB0'),
  baud: z.number().int().positive().default(115200),
  charDelayMs: z.number().min(0).max(100).optional(),
  login: z
    .strictObject({ user: z.string().default('root'), password: secretRefSchema.optional() })
    .default({ user: 'root' }),
  /** Regular expressions (JavaScript syntax) that end any wait as a box failure, besides panics and Oopses. */
  failPatterns: z
    .array(
      z.string().refine((src) => {
        try {
          new RegExp(src);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression'),
    )
    .optional(),
});

const sshSchema = z.strictObject({
  /** Host or IP of the box; omitted for virtual boxes (a forwarded port on loopback). */
  host: z.string().min(1).optional(),
  port: port.default(22),
  user: z.string().default('root'),
  /** A key file of the lab's; by default each run makes its own key pair and injects it into CONFIG. */
  key: secretRefSchema.optional(),
  hostKey: hostKeySchema.optional(),
});

const powerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('virtual') }),
  z.strictObject({ type: z.literal('manual'), minOffSeconds: seconds.optional() }),
  z.strictObject({
    type: z.literal('command'),
    on: z.array(z.string()).min(1),
    off: z.array(z.string()).min(1),
    status: z.array(z.string()).min(1).optional(),
    minOffSeconds: seconds.optional(),
  }),
  z.strictObject({
    type: z.literal('ipmi'),
    host: z.string().min(1),
    port: port.default(623),
    user: z.string(),
    password: secretRefSchema,
    /** IPMI 2.0 cipher suite; by default 17 then 3 are tried. */
    cipherSuite: z.number().int().min(0).max(17).optional(),
    minOffSeconds: seconds.optional(),
  }),
  z.strictObject({
    type: z.literal('redfish'),
    url: z.string().url(),
    user: z.string(),
    password: secretRefSchema,
    certificateSha256: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint AA:BB:...'),
    system: z.string().optional(),
    minOffSeconds: seconds.optional(),
  }),
  z.strictObject({
    type: z.literal('pdu'),
    daemon: z.string().url(),
    hostname: z.string().min(1),
    port: z.union([z.number().int().nonnegative(), z.string().min(1)]),
    minOffSeconds: seconds.optional(),
  }),
]);

const mediaSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('virtual'), bus: z.enum(['usb', 'virtio']).default('usb') }),
  z.strictObject({ type: z.literal('operator'), port: z.string().optional() }),
  z.strictObject({ type: z.literal('usb-sd-mux'), write: z.array(z.string()).min(1), toBox: z.array(z.string()).min(1), toHost: z.array(z.string()).min(1) }),
  z.strictObject({ type: z.literal('ipxe-http'), listen: z.string().min(1) }),
  z.strictObject({ type: z.literal('redfish-virtual-media'), listen: z.string().min(1) }),
]);

const installSchema = z
  .strictObject({
    /** The disk EVE installs to, as the installer names it (eve_install_disk). */
    disk: z.string().regex(/^[a-z0-9]+$/, 'must be a kernel disk name such as sda, vda, nvme0n1').optional(),
    /** Disks whose partition tables are wiped first (eve_nuke_disks). */
    nukeDisks: z.array(z.string()).optional(),
    /** Installer verification needs Internet access; off by default in a lab. */
    verify: z.boolean().default(false),
    extraArgs: z.array(z.string()).default([]),
    deadlines: z
      .strictObject({
        installerStart: seconds.default(300),
        install: seconds.default(1200),
        installerIdle: seconds.default(300),
        boot: seconds.default(600),
        ssh: seconds.default(300),
      })
      .default({ installerStart: 300, install: 1200, installerIdle: 300, boot: 600, ssh: 300 }),
  })
  .default({ verify: false, extraArgs: [], deadlines: { installerStart: 300, install: 1200, installerIdle: 300, boot: 600, ssh: 300 } });

const ethernetSchema = z.strictObject({
  name: z.string().regex(/^eth\d+$/, 'must be the name EVE gives the port: eth0, eth1, ...'),
  cabled: z.boolean().default(true),
  dhcp: z.boolean().default(true),
  /** The runner's address as the box reaches it through this port: eve-qual's traffic peer listens on the runner
   * and the suite sends a transfer there out of this port. Virtual boxes: 10.0.2.2 (QEMU's user net) when absent. */
  peer: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be an IPv4 address or a host name of the runner').optional(),
  speedMbps: z.number().int().positive().optional(),
  duplex: z.enum(['full', 'half']).optional(),
  /** Traffic through the port to its peer (eve-qual's own on the runner when no peer is declared) at least this fast. */
  minThroughputMbps: z.number().positive().optional(),
  /** The NIC model (QEMU's names; a virtual box is built with it), proven by the driver bound to the port:
   * virtio_net, e1000, e1000e. */
  model: z.enum(['virtio-net-pci', 'e1000', 'e1000e']).optional(),
});

const usbSchema = z.strictObject({
  name: name,
  vendorProduct: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/, 'must be vendor:product in hex, as lsusb prints it').optional(),
  class: z.enum(['mass-storage', 'hid', 'serial', 'network', 'hub']).optional(),
  /** Where it is plugged in, as sysfs names the device: `<bus>-<port>[.<port>...]` (1-2, 2-1.4). */
  port: z.string().regex(/^\d+-\d+(\.\d+)*$/, 'must be the sysfs name of the USB device: <bus>-<port>[.<port>...] such as 1-2 or 2-1.4 (ls /sys/bus/usb/devices)').optional(),
  /** The negotiated speed, as /sys/bus/usb/devices/<port>/speed prints it: 1.5, 12, 480 (USB 2), 5000 (USB 3)... */
  speedMbps: z.union([z.literal(1.5), z.literal(12), z.literal(480), z.literal(5000), z.literal(10000), z.literal(20000)]).optional(),
  /** A storage stick the suite writes and reads back. */
  storage: z.boolean().default(false),
  /** The stick's capacity in MB (10^6 bytes) as labelled; the suite accepts 90% of it (labels round up). */
  sizeMb: z.number().int().positive().optional(),
}).refine((u) => u.vendorProduct !== undefined || u.class !== undefined, {
  // Without an identity any device would do, root hubs and the install disk's controller included.
  message: 'declares neither vendorProduct nor class: the suite could not tell this device from any other (give vendorProduct as lsusb prints it, or a class)',
});

const watchdogSchema = z.strictObject({
  driver: z.string().min(1),
  /** The timeout the timer runs with under EVE (/sys/class/watchdog/watchdog0/timeout): EVE's daemon asks for 60 s
   * (watchdog 5.15's default); a driver that cannot do that keeps its own. */
  timeoutSeconds: seconds.default(60),
  /** Extra seconds allowed after the timeout for the reset to show on the console. */
  marginSeconds: seconds.default(60),
});

const cellularSchema = z.strictObject({
  name: name,
  model: z.string().optional(),
  sim: z.boolean().default(true),
  apn: z.string().optional(),
  interface: z.string().optional(),
  /** Where the modem sits, as EVE's network config names it (when given, preferred over `interface`): USB
   * `<bus>:<port>[.<port>...]` (sysfs 2-1.4 is 2:1.4), and/or PCI (of a PCIe modem, or the USB host controller). */
  usbAddr: z.string().regex(/^\d+:\d+(\.\d+)*$/, 'must be <bus>:<port>[.<port>...], as EVE writes USB addresses (sysfs 2-1.4 is 2:1.4)').optional(),
  pciAddr: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'must be a long PCI address such as 0000:00:14.0').optional(),
}).refine((m) => m.usbAddr || m.pciAddr || m.interface || m.model, {
  message: 'must say which modem it is: usbAddr, pciAddr, interface or model (ModemManager\'s numbering is no identity)',
});

/** Modems declared by model alone are told apart by nothing else: two of one model need an address each. */
const cellularList = z.array(cellularSchema).superRefine((list, ctx) => {
  const byModel = list.filter((m) => m.model && !m.usbAddr && !m.pciAddr && !m.interface).map((m) => m.model!.trim().toLowerCase());
  const twice = byModel.find((x, i) => byModel.indexOf(x) !== i);
  if (twice) ctx.addIssue({ code: 'custom', message: `two modems are declared by model ${twice} alone: give each its usbAddr, pciAddr or interface` });
});

const storageSchema = z.strictObject({
  name: name,
  device: z.string().regex(/^[a-z0-9]+$/, 'must be a kernel disk name such as sda, vda, nvme0n1'),
  /** At least this many GB of 10^9 bytes, as disks are sold (3 % less passes: eMMC sold as 32 GB holds 31.3);
   * undeclared, a disk must still hold 1 GB. */
  sizeGb: z.number().positive().optional(),
  /** Direct-I/O (O_DIRECT) sequential speeds in MB/s of 10^6 bytes, timed on the box. */
  minReadMBps: z.number().positive().optional(),
  minWriteMBps: z.number().positive().optional(),
  /** The bus sysfs shows the disk on. */
  bus: z.enum(['virtio', 'usb', 'nvme', 'sata']).optional(),
  /** The disk reports its health (SMART, NVMe health log) to EVE or the box's tools; a failing report fails
   * whether declared or not. */
  smart: z.boolean().optional(),
});

export const hardwareSchema = z
  .strictObject({
    ethernet: z.array(ethernetSchema).default([]),
    usb: z.array(usbSchema).default([]),
    watchdog: watchdogSchema.optional(),
    cellular: cellularList.default([]),
    tpm: z.strictObject({ version: z.literal('2.0') }).optional(),
    virtualization: z.strictObject({ cpu: z.boolean().default(true), iommu: z.boolean().default(true) }).optional(),
    storage: z.array(storageSchema).default([]),
  })
  .default({ ethernet: [], usb: [], cellular: [], storage: [] });

/** Hardware a virtual box deliberately lacks or breaks, to prove the suites catch it. */
const defectSchema = z.union([
  z.strictObject({ omit: z.string().regex(/^(ethernet|usb|storage)\.[A-Za-z0-9._-]+$|^(watchdog|tpm)$/, 'must name a declared item: ethernet.NAME, usb.NAME, storage.NAME, watchdog or tpm') }),
  z.strictObject({ watchdogNeverResets: z.literal(true) }),
  z.strictObject({ unplug: z.string().regex(/^ethernet\.[A-Za-z0-9._-]+$/, 'must name a declared port: ethernet.NAME') }),
  /** The USB stick as plugged differs from its declaration: another capacity, write-protected, or another root port. */
  z.strictObject({
    plug: z.string().regex(/^usb\.[A-Za-z0-9._-]+$/, 'must name a declared USB device: usb.NAME'),
    sizeMb: z.number().int().positive().optional(),
    readOnly: z.literal(true).optional(),
    port: z.string().regex(/^\d+-\d+$/, 'must be a root port as sysfs names it: <bus>-<port> such as 2-3').optional(),
  }),
]);

const virtualSchema = z.strictObject({
  memoryMb: z.number().int().min(128).default(1024),
  cpus: z.number().int().min(1).max(8).default(1),
  /** The blank disk EVE installs onto; absent = a box with no free disk. */
  targetDisk: z.strictObject({ sizeMb: z.number().int().positive(), bus: z.enum(['virtio', 'nvme', 'sata']).default('virtio') }).nullable().default({ sizeMb: 2048, bus: 'virtio' }),
  defects: z.array(defectSchema).default([]),
});

export const profileSchema = z.strictObject({
  box: z.strictObject({
    name,
    vendor: z.string().min(1),
    model: z.string().min(1),
    arch: z.enum(['amd64', 'arm64']),
    /** Virtual boxes run in QEMU; real boxes are reached over their links. */
    kind: z.enum(['real', 'virtual']).default('real'),
    sample: z.string().optional(),
  }),
  console: consoleSchema,
  ssh: sshSchema.default({ port: 22, user: 'root' }),
  power: powerSchema,
  media: mediaSchema,
  install: installSchema,
  hardware: hardwareSchema,
  virtual: virtualSchema.optional(),
});

export type Profile = z.output<typeof profileSchema>;
export type LinkSpec = z.output<typeof linkSchema>;
export type PowerSpec = z.output<typeof powerSchema>;
export type MediaSpec = z.output<typeof mediaSchema>;
export type HardwareSpec = z.output<typeof hardwareSchema>;
