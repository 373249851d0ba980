// What a virtual box is made of, and the QEMU command line for it. Pure: no processes here, so the mapping from
// declared hardware to QEMU devices is checked by unit tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export type Arch = 'amd64' | 'arm64';

export interface QemuDisk {
  id: string;
  file: string;
  format?: 'raw' | 'qcow2';
  bus: 'virtio' | 'usb' | 'nvme' | 'sata';
  readonly?: boolean;
  /** Serial number the guest sees (lets a suite find the disk it expects). */
  serial?: string;
  /** usb: the xhci root port (1-4); unset takes the first free one, after every disk that names its port. */
  usbPort?: number;
  bootIndex?: number;
}

export interface QemuNic {
  id: string;
  model: 'virtio-net-pci' | 'e1000' | 'e1000e';
  mac?: string;
  /** Host loopback port → guest port forwards on this NIC's user network (SSH: guest 22). */
  forwards?: Array<{ hostPort: number; guestPort: number }>;
  /** Link carrier at start (false: cable unplugged). */
  linkUp?: boolean;
  /**
   * Network boot: the boot file name this NIC's user network hands out by DHCP (an http:// URL, which the NIC's iPXE
   * option ROM chains), as the guest reaches it (see slirpGuestUrl).
   */
  bootFile?: string;
  /** The NIC's place in the firmware's boot order (0 before the disks: network boot first). */
  bootIndex?: number;
}

export interface QemuWatchdog {
  model: 'i6300esb' | 'itco';
  /** What QEMU does when it fires: reset is a real watchdog; none is a watchdog that never resets the box. */
  action: 'reset' | 'none' | 'poweroff' | 'pause';
}

export interface QemuMachine {
  arch: Arch;
  memoryMb: number;
  cpus: number;
  accel: 'kvm' | 'tcg';
  firmware: { code: string; vars: string };
  disks: QemuDisk[];
  nics: QemuNic[];
  watchdog?: QemuWatchdog;
  /** swtpm's control socket, when the box has a TPM. */
  tpmSocket?: string;
  /** Unix socket eve-qual listens on; QEMU's serial port connects to it. */
  consoleSocket: string;
  qmpSocket: string;
  smbiosSerial?: string;
  extraArgs?: string[];
}

export const FIRMWARE: Record<Arch, { code: string[]; vars: string[] }> = {
  amd64: {
    code: ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'],
    vars: ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
  },
  arm64: { code: ['/usr/share/AAVMF/AAVMF_CODE.fd'], vars: ['/usr/share/AAVMF/AAVMF_VARS.fd'] },
};

/** The firmware pair installed on this machine for `arch` (code and vars must come from the same build). */
export function findFirmware(arch: Arch): { code: string; vars: string } | null {
  const f = FIRMWARE[arch];
  for (let i = 0; i < f.code.length; i++) {
    if (fs.existsSync(f.code[i]!) && fs.existsSync(f.vars[i]!)) return { code: f.code[i]!, vars: f.vars[i]! };
  }
  return null;
}

const probed = new Map<Arch, 'kvm' | 'tcg'>();

/**
 * KVM when it really works for `arch` on this host, TCG otherwise. An accessible /dev/kvm is not enough: nested
 * setups expose one that fails at vCPU start ("failed to set MSR"), so QEMU is probed once (about 40 ms).
 * EVE_QUAL_ACCEL=kvm|tcg overrides.
 */
export function accelFor(arch: Arch): 'kvm' | 'tcg' {
  const forced = process.env.EVE_QUAL_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  const hostArch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : null;
  if (hostArch !== arch) return 'tcg';
  const known = probed.get(arch);
  if (known) return known;
  let accel: 'kvm' | 'tcg' = 'tcg';
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    const file = arch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
    const machine = arch === 'amd64' ? 'q35,accel=kvm' : 'virt,accel=kvm';
    execFileSync(file, ['-machine', machine, '-cpu', 'host', '-S', '-nodefaults', '-display', 'none', '-qmp', 'stdio'], {
      input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
      stdio: ['pipe', 'ignore', 'ignore'],
      timeout: 10_000,
    });
    accel = 'kvm';
  } catch {
    accel = 'tcg';
  }
  probed.set(arch, accel);
  return accel;
}

/**
 * A URL on the runner as a guest on QEMU user networking reaches it: the runner's loopback is 10.0.2.2 there (slirp's
 * host address; fec0::2 for ::1); any other address is reached through slirp's NAT as it is.
 */
export function slirpGuestUrl(url: string): string {
  const u = new URL(url);
  const h = u.hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || /^127\./.test(h)) u.hostname = '10.0.2.2';
  else if (h === '::1') u.hostname = '[fec0::2]';
  return u.toString();
}

/** A value inside one QEMU -netdev/-device option list: commas are doubled. */
function qemuOptValue(v: string): string {
  return v.replace(/,/g, ',,');
}

export function qemuCommand(m: QemuMachine): { file: string; args: string[] } {
  const x86 = m.arch === 'amd64';
  const file = x86 ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  const a: string[] = ['-nodefaults', '-no-user-config', '-display', 'none', '-S'];
  if (x86) a.push('-machine', `q35,accel=${m.accel}`, '-cpu', m.accel === 'kvm' ? 'host' : 'max');
  else a.push('-machine', `virt,accel=${m.accel}`, '-cpu', m.accel === 'kvm' ? 'host' : 'cortex-a57');
  a.push('-m', String(m.memoryMb), '-smp', String(m.cpus));
  a.push(
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${m.firmware.code}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${m.firmware.vars}`,
  );
  a.push('-chardev', `socket,id=console0,path=${m.consoleSocket}`, '-serial', 'chardev:console0');
  a.push('-qmp', `unix:${m.qmpSocket},server=on,wait=off`);
  if (m.smbiosSerial && x86) a.push('-smbios', `type=1,serial=${m.smbiosSerial}`);

  if (m.disks.some((d) => d.bus === 'usb')) a.push('-device', 'qemu-xhci,id=xhci');
  if (m.disks.some((d) => d.bus === 'sata') && !x86) a.push('-device', 'ich9-ahci,id=ahci');
  let sata = 0;
  // QEMU hands out USB ports in command-line order: disks that name their port go first, so none is taken from them.
  for (const d of [...m.disks.filter((x) => x.usbPort !== undefined), ...m.disks.filter((x) => x.usbPort === undefined)]) {
    a.push('-drive', `if=none,id=${d.id},file=${d.file},format=${d.format ?? 'raw'}${d.readonly ? ',readonly=on' : ''}`);
    const extra = `${d.serial ? `,serial=${d.serial}` : ''}${d.bootIndex !== undefined ? `,bootindex=${d.bootIndex}` : ''}`;
    switch (d.bus) {
      case 'virtio':
        a.push('-device', `virtio-blk-pci,drive=${d.id}${extra}`);
        break;
      case 'usb':
        a.push('-device', `usb-storage,bus=xhci.0,drive=${d.id}${d.usbPort !== undefined ? `,port=${d.usbPort}` : ''}${extra}`);
        break;
      case 'nvme':
        a.push('-device', `nvme,drive=${d.id}${d.serial ? '' : `,serial=${d.id}`}${extra}`);
        break;
      case 'sata':
        a.push('-device', `ide-hd,drive=${d.id},bus=${x86 ? 'ide' : 'ahci'}.${sata++}${extra}`);
        break;
    }
  }
  for (const n of m.nics) {
    const fwd = (n.forwards ?? []).map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`).join('');
    const boot = n.bootFile ? `,bootfile=${qemuOptValue(n.bootFile)}` : '';
    a.push('-netdev', `user,id=${n.id}${fwd}${boot}`);
    a.push('-device', `${n.model},netdev=${n.id}${n.mac ? `,mac=${n.mac}` : ''}${n.bootIndex !== undefined ? `,bootindex=${n.bootIndex}` : ''}`);
  }
  if (m.watchdog) {
    if (m.watchdog.model === 'i6300esb') a.push('-device', 'i6300esb');
    else if (x86) a.push('-global', 'ICH9-LPC.noreboot=false');
    a.push('-action', `watchdog=${m.watchdog.action}`);
  }
  if (m.tpmSocket) {
    a.push('-chardev', `socket,id=chrtpm,path=${m.tpmSocket}`, '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm');
    a.push('-device', `${x86 ? 'tpm-tis' : 'tpm-tis-device'},tpmdev=tpm0`);
  }
  a.push(...(m.extraArgs ?? []));
  return { file, args: a };
}
