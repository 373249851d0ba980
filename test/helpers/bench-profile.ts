// The profile of the lab bench (lab-box.ts) as a lab engineer writes it for a real box: reached by its terminal
// server, command power and SSH port, installed through the USB/SD mux, and declaring the hardware the healthy bench
// has (HEALTHY). A test rewires the bench, never this profile: the same declaration meets each defect.
import fs from 'node:fs';
import path from 'node:path';
import type { BenchHardware, LabBench } from './lab-box.ts';

/** The bench as its profile declares it. */
export const HEALTHY: BenchHardware = {
  eth1: 'cabled',
  stick: { sizeMb: 64, readOnly: false },
  keyboard: true,
  dataDiskMb: 1024,
  tpm: true,
  vtx: true,
  watchdog: 'resets',
};

export interface BenchProfile {
  file: string;
  /** The same profile also declaring the CPU's virtualization extensions (not IOMMU: the bench has none). */
  withVirtualization: string;
}

function lines(bench: LabBench, key: string): string[] {
  const s = bench.state;
  const cmd = (a: 'on' | 'off' | 'status') => JSON.stringify(bench.powerCommand(a));
  const q = JSON.stringify;
  return [
    'box: { name: bench-amd64, vendor: Lab, model: QEMU on a bench, arch: amd64, kind: real, sample: BENCH-1 }',
    `console: { link: { type: tcp, host: 127.0.0.1, port: ${bench.consolePort}, protocol: raw }, device: ttyS0 }`,
    `ssh: { host: 127.0.0.1, port: ${bench.sshPort}, key: { file: ${q(key)} }, hostKey: { recordTo: ${q(path.join(s, 'known_host'))} } }`,
    `power: { type: command, on: ${cmd('on')}, off: ${cmd('off')}, status: ${cmd('status')} }`,
    `media: { type: usb-sd-mux, write: [cp, '{image}', ${q(path.join(s, 'stick.raw'))}], toBox: [touch, ${q(path.join(s, 'stick.attached'))}], toHost: [rm, -f, ${q(path.join(s, 'stick.attached'))}] }`,
    'install: { disk: vda, deadlines: { installerStart: 180, install: 600, boot: 300, ssh: 180 } }',
    'hardware:',
    '  ethernet:',
    '    - { name: eth0, model: virtio-net-pci, peer: 10.0.2.2 }',
    '    - { name: eth1, model: e1000, peer: 10.0.2.2 }',
    '  usb:',
    // lab-box.ts: the stick on xhci root port 1, the guest's USB 3 bus; QEMU's usb-kbd is 0627:0001.
    '    - { name: stick0, class: mass-storage, vendorProduct: 46f4:0001, port: 2-1, speedMbps: 5000, storage: true, sizeMb: 64 }',
    '    - { name: kbd0, class: hid, vendorProduct: 0627:0001 }',
    '  watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 90 }',
    "  tpm: { version: '2.0' }",
    '  storage:',
    '    - { name: disk0, device: vda, sizeGb: 2, bus: virtio }',
    '    - { name: disk1, device: vdb, sizeGb: 1, bus: virtio }',
  ];
}

/** Write the bench's profile (and its variant) into `dir`. */
export function benchProfile(dir: string, bench: LabBench, key: string): BenchProfile {
  const base = lines(bench, key);
  const file = path.join(dir, 'bench-profile.yaml');
  const withVirtualization = path.join(dir, 'bench-profile-virtualization.yaml');
  fs.writeFileSync(file, [...base, ''].join('\n'));
  fs.writeFileSync(withVirtualization, [...base, '  virtualization: { cpu: true, iommu: false }', ''].join('\n'));
  return { file, withVirtualization };
}
