// Attaching and removing the installer image on a virtual box's disk list.
import type { QemuDisk } from './qemu-machine.ts';

/** The installer image as the first boot device (a USB stick or a virtio disk); a copy-on-write-free raw file. */
export function withInstaller(disks: QemuDisk[], image: string, bus: 'usb' | 'virtio'): QemuDisk[] {
  return [{ id: 'installer', file: image, bus, serial: 'EVEINSTALLER', bootIndex: 0 }, ...disks.filter((d) => d.id !== 'installer')];
}

export function withoutInstaller(disks: QemuDisk[]): QemuDisk[] {
  return disks.filter((d) => d.id !== 'installer');
}
