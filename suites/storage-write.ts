// Where the storage suite may write to measure a disk's write speed, and the two ways it does. EVE's install disk is
// never written through its device or partitions: when it holds /persist, a scratch file there (O_DIRECT through
// ext4/xfs, random data so no compression flatters it) is written and removed. Any other disk is written only when
// nothing is mounted from it and it has no partitions or holders, and then with its own bytes, read first and
// checked back afterwards.
import { BoxError } from '../lib/errors.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { must, read } from './box-facts.ts';
import { measuredRate, type DiskRate } from './disk-io.ts';
import { MOUNTS_SCRIPT, parseMounts } from './storage-facts.ts';

export type WriteTarget =
  | { kind: 'persist'; fstype: string; source: string }
  | { kind: 'in-place' }
  | { kind: 'none'; why: string };

/** File systems whose O_DIRECT reaches the disk (OpenZFS before 2.3 serves it through its ARC cache). */
const DIRECT_FS = ['ext4', 'xfs'];

export async function writeTarget(ctx: SuiteContext, device: string): Promise<WriteTarget> {
  const mounts = parseMounts((await read(ctx, MOUNTS_SCRIPT)).out);
  ctx.fact('mounts', mounts.map((m) => `${m.source} ${m.mountpoint} ${m.fstype}`));
  const persist = mounts.find((m) => m.mountpoint === '/persist');
  const install = new Set([ctx.profile.install.disk, ...mounts.filter((m) => m.mountpoint === '/config').map((m) => m.disk)]);
  if (persist?.disk === device) {
    if (DIRECT_FS.includes(persist.fstype)) return { kind: 'persist', fstype: persist.fstype, source: persist.source };
    return { kind: 'none', why: `/persist on /dev/${device} is ${persist.fstype}, whose O_DIRECT does not reach the disk: no direct write can be timed there, and the install disk is not written otherwise` };
  }
  if (install.has(device)) return { kind: 'none', why: `/dev/${device} is EVE's install disk and /persist is not a partition of it (ZFS, or on another disk): eve-qual writes to the install disk only through a /persist partition on it` };
  const used = mounts.filter((m) => m.disk === device);
  if (used.length) return { kind: 'none', why: `/dev/${device} holds mounted file systems (${used.map((m) => m.mountpoint).join(', ')}): not written` };
  const parts = await read(ctx, `ls -d /sys/block/${device}/${device}* 2>/dev/null; ls /sys/block/${device}/holders 2>/dev/null`);
  if (parts.out) return { kind: 'none', why: `/dev/${device} has partitions or holders (${parts.out.split('\n').map((l) => l.split('/').pop()).join(', ')}): it may hold data, not written` };
  return { kind: 'in-place' };
}

/** MiB the box can spare in RAM for a write's source data (a quarter of what it has available). */
async function spareMiB(ctx: SuiteContext): Promise<number> {
  const kb = Number((await read(ctx, "awk '/^MemAvailable:/ {print $2}' /proc/meminfo")).out);
  return Number.isFinite(kb) && kb > 0 ? Math.floor(kb / 1024 / 4) : 64;
}

export async function writeToPersist(ctx: SuiteContext, maxMiB: number): Promise<DiskRate> {
  const src = '/tmp/eve-qual-write.src';
  const dst = '/persist/eve-qual-write.test';
  const freeKb = Number((await must(ctx, "df -k /persist | awk 'NR > 1 {print $4}' | tail -1")).trim());
  const max = Math.min(maxMiB, Math.floor(freeKb / 1024 / 4), await spareMiB(ctx));
  try {
    return await measuredRate(ctx, (n) => `dd if=${src} of=${dst} bs=1M count=${n} oflag=direct conv=fsync`, 64, max, async (n) => {
      await must(ctx, `rm -f ${dst} && dd if=/dev/urandom of=${src} bs=1M count=${n} 2>&1`, 300_000);
    });
  } finally {
    await read(ctx, `rm -f ${src} ${dst}`);
  }
}

export async function writeInPlace(ctx: SuiteContext, device: string, sizeMiB: number, maxMiB: number): Promise<DiskRate> {
  const copy = '/tmp/eve-qual-disk.orig';
  const off = Math.floor(sizeMiB / 2);
  const max = Math.min(maxMiB, sizeMiB - off, await spareMiB(ctx));
  let count = 0;
  let before = '';
  try {
    const rate = await measuredRate(ctx, (n) => `dd if=${copy} of=/dev/${device} bs=1M seek=${off} count=${n} oflag=direct conv=notrunc,fsync`, 64, max, async (n) => {
      count = n;
      before = (await must(ctx, `dd if=/dev/${device} of=${copy} bs=1M skip=${off} count=${n} iflag=direct 2>/dev/null && sha256sum <${copy}`, 300_000)).split(/\s/)[0]!;
    });
    const after = (await must(ctx, `dd if=/dev/${device} bs=1M skip=${off} count=${count} iflag=direct 2>/dev/null | sha256sum`, 300_000)).split(/\s/)[0]!;
    ctx.fact('restored', { 'offset-MiB': off, MiB: count, before, after, same: before === after });
    if (before !== after) throw new BoxError(`/dev/${device} did not read back the bytes written to it at ${off} MiB (sha256 ${before} written, ${after} read)`);
    return rate;
  } finally {
    await read(ctx, `rm -f ${copy}`);
  }
}
