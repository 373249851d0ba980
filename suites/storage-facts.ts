// What the storage suite reads from a box, made sense of: a disk's bus from its sysfs device path, which disks hold
// mounted file systems, and disk health from what EVE or the box's tools say. Pure: the suite runs the commands.

export type DiskBus = 'virtio' | 'usb' | 'nvme' | 'sata' | 'mmc' | 'scsi' | 'unknown';

/** The bus a block device hangs on, from `readlink -f /sys/block/<dev>/device`: the first bus below the host
 * controller decides (a USB-SATA bridge is USB; virtio-scsi is virtio). */
export function busOfDevicePath(p: string): DiskBus {
  if (/\/usb\d+\//.test(p)) return 'usb';
  if (/\/ata\d+\//.test(p)) return 'sata';
  if (/\/nvme\/nvme\d+(\/|$)/.test(p) || /\/nvme-subsystem\//.test(p)) return 'nvme';
  if (/\/virtio\d+(\/|$)/.test(p)) return 'virtio';
  if (/\/mmc\d+(\/|:|$)/.test(p) || /\/mmc_host\//.test(p)) return 'mmc';
  if (/\/host\d+\/target\d+/.test(p)) return 'scsi';
  return 'unknown';
}

/** One line per mounted block device: `source mountpoint fstype disk` (the disk a partition belongs to, by sysfs). */
export const MOUNTS_SCRIPT =
  'while read -r src mnt fs rest; do n=${src#/dev/}; [ "$n" = "$src" ] && continue; ' +
  'if [ -e /sys/block/$n ]; then d=$n; else d=$(basename "$(readlink -f /sys/class/block/$n/..)"); fi; ' +
  'echo "$src $mnt $fs $d"; done </proc/mounts';

export interface Mount {
  source: string;
  mountpoint: string;
  fstype: string;
  disk: string;
}

export function parseMounts(out: string): Mount[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length === 4 && w[3] !== '' && w[3] !== '.')
    .map(([source, mountpoint, fstype, disk]) => ({ source: source!, mountpoint: mountpoint!, fstype: fstype!, disk: disk! }));
}

export interface HealthSources {
  /** EVE's /persist/SMART_details.json (storage-init runs `smartctl -a <persist disk> --json` at every boot). */
  smartJson?: string;
  /** `smartctl -H /dev/<dev>` where the box has smartctl. */
  smartctl?: string;
  /** `nvme smart-log /dev/<dev>` where the box has nvme-cli. */
  nvme?: string;
}

export interface Health {
  verdict: 'pass' | 'fail' | 'none';
  /** What said so, and what it said. */
  said: string[];
}

function fromSmartJson(device: string, text: string): Health | null {
  let j: { device?: { name?: string }; smart_status?: { passed?: boolean }; nvme_smart_health_information_log?: { critical_warning?: number } };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    return null;
  }
  if (j.device?.name !== `/dev/${device}`) return null;
  const warn = j.nvme_smart_health_information_log?.critical_warning;
  if (warn) return { verdict: 'fail', said: [`EVE's /persist/SMART_details.json: NVMe critical warning ${warn}`] };
  if (j.smart_status?.passed === undefined) return null;
  return { verdict: j.smart_status.passed ? 'pass' : 'fail', said: [`EVE's /persist/SMART_details.json: SMART self-assessment: ${j.smart_status.passed ? 'PASSED' : 'FAILED'}`] };
}

/** Health of /dev/<device> from the first source that speaks of it; `none` when none does. */
export function judgeHealth(device: string, s: HealthSources): Health {
  const json = s.smartJson ? fromSmartJson(device, s.smartJson) : null;
  if (json) return json;
  const h = s.smartctl && /self-assessment test result: (\w+)|SMART Health Status: (\w+)/.exec(s.smartctl);
  if (h) {
    const word = (h[1] ?? h[2])!;
    return { verdict: /^(PASSED|OK)$/.test(word) ? 'pass' : 'fail', said: [`smartctl -H /dev/${device}: SMART self-assessment: ${word}`] };
  }
  const w = s.nvme && /^critical_warning\s*:\s*(\S+)/m.exec(s.nvme);
  if (w) return { verdict: Number(w[1]) === 0 ? 'pass' : 'fail', said: [`nvme smart-log /dev/${device}: critical_warning ${w[1]}`] };
  return { verdict: 'none', said: [] };
}
