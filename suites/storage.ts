// storage: every declared disk is there with at least its declared size (or, undeclared, at least 1 GB), on its
// declared bus as sysfs shows it, reads and writes with direct I/O at or above the declared floors (timed on the box:
// disk-io.ts; never written through EVE's install disk's partitions: storage-write.ts), and is healthy where the box
// says so (EVE's SMART_details.json, smartctl, nvme-cli): a disk declared `smart: true` must say so.
import { expect } from 'chai';
import type { Profile } from '../lib/profile/schema.ts';
import { notDeclared, notDeclaredCheck, type Bdd, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { measuredRate } from './disk-io.ts';
import { busOfDevicePath, judgeHealth } from './storage-facts.ts';
import { writeInPlace, writeTarget, writeToPersist } from './storage-write.ts';

type Disk = Profile['hardware']['storage'][number];

/** A disk with no declared size must hold at least this much (GB of 10^9 bytes): a 0-sized or toy disk is no disk. */
export const MIN_DISK_GB = 1;
/** Disks are sold by GB of 10^9 bytes and hold at least that; eMMC and SD cards sold as 32 GB may hold 31.3. */
const SIZE_SLACK = 0.97;
const MAX_TIMED_MiB = 512;

type Runnable = Mocha.Runnable & { skipReason?: string };

function skipBecause(test: Mocha.Context, why: string): never {
  (test.test as Runnable).skipReason = `not-run: ${why}`;
  test.skip();
}

/** The disk's size in bytes as the kernel reports it (sectors of 512 bytes); expects the disk to be there. */
async function diskBytes(ctx: SuiteContext, d: Disk): Promise<number> {
  const r = await read(ctx, `cat /sys/block/${d.device}/size`);
  ctx.fact('device', `/dev/${d.device}`);
  expect(r.code, `no /sys/block/${d.device} on the box: /dev/${d.device} is not there`).to.equal(0);
  return Number(r.out) * 512;
}

async function present(ctx: SuiteContext, d: Disk): Promise<void> {
  const bytes = await diskBytes(ctx, d);
  const gb = bytes / 1e9;
  ctx.fact('size-bytes', bytes);
  ctx.fact('size-gb', Number(gb.toFixed(2)));
  if (d.sizeGb) ctx.fact('declared-gb', d.sizeGb);
  else ctx.fact('minimum-gb', MIN_DISK_GB);
  const why = d.sizeGb ? `less than the declared ${d.sizeGb} GB` : `a disk must hold at least ${MIN_DISK_GB} GB (no size declared)`;
  expect(gb, `/dev/${d.device} holds ${gb.toFixed(2)} GB: ${why}`).to.be.at.least(d.sizeGb ? d.sizeGb * SIZE_SLACK : MIN_DISK_GB);
}

async function bus(ctx: SuiteContext, d: Disk): Promise<void> {
  const sys = `/sys/block/${d.device}/device`;
  const r = await read(ctx, `echo "path=$(readlink -f ${sys})"; echo "subsystem=$(readlink -f ${sys}/subsystem)"; echo "driver=$(readlink -f ${sys}/driver || readlink -f ${sys}/device/driver)"`);
  const v = Object.fromEntries(r.out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const found = busOfDevicePath(v.path ?? '');
  ctx.fact('device-path', v.path);
  ctx.fact('subsystem', v.subsystem?.split('/').pop());
  ctx.fact('driver', v.driver?.split('/').pop());
  ctx.fact('bus', found);
  ctx.fact('declared', d.bus);
  expect(v.path, `no ${sys} on the box`).to.match(/^\/sys\/devices\//);
  expect(found, `/dev/${d.device} is on ${found} (${v.path}), not ${d.bus} as declared`).to.equal(d.bus);
}

async function readSpeed(ctx: SuiteContext, d: Disk): Promise<void> {
  const mib = Math.floor((await diskBytes(ctx, d)) / (1 << 20));
  const rate = await measuredRate(ctx, (n) => `dd if=/dev/${d.device} of=/dev/null bs=1M count=${n} iflag=direct`, 64, Math.min(MAX_TIMED_MiB, mib));
  ctx.fact('read', { ...rate, 'min-MBps': d.minReadMBps ?? 'none declared' });
  if (d.minReadMBps) expect(rate.MBps, `/dev/${d.device} read at ${rate.MBps} MB/s, below the declared ${d.minReadMBps} MB/s`).to.be.at.least(d.minReadMBps);
}

async function writeSpeed(test: Mocha.Context, ctx: SuiteContext, d: Disk): Promise<void> {
  const mib = Math.floor((await diskBytes(ctx, d)) / (1 << 20));
  const target = await writeTarget(ctx, d.device);
  if (target.kind === 'none') {
    ctx.fact('target', 'none');
    skipBecause(test, target.why);
  }
  ctx.fact('target', target.kind === 'persist' ? `scratch file on /persist (${target.fstype} on ${target.source}, the install disk)` : `/dev/${d.device} in place, with its own bytes (no partitions, nothing mounted)`);
  const rate = target.kind === 'persist' ? await writeToPersist(ctx, MAX_TIMED_MiB) : await writeInPlace(ctx, d.device, mib, MAX_TIMED_MiB);
  ctx.fact('write', { ...rate, 'min-MBps': d.minWriteMBps ?? 'none declared' });
  if (d.minWriteMBps) expect(rate.MBps, `/dev/${d.device} wrote at ${rate.MBps} MB/s, below the declared ${d.minWriteMBps} MB/s`).to.be.at.least(d.minWriteMBps);
}

async function health(test: Mocha.Context, ctx: SuiteContext, d: Disk): Promise<void> {
  const dev = `/dev/${d.device}`;
  const smartJson = (await read(ctx, 'cat /persist/SMART_details.json 2>/dev/null')).out;
  const smartctl = (await read(ctx, `command -v smartctl >/dev/null && smartctl -H ${dev} 2>&1`)).out;
  const nvme = d.device.startsWith('nvme') ? (await read(ctx, `command -v nvme >/dev/null && nvme smart-log ${dev} 2>&1`)).out : '';
  ctx.fact('sysfs-state', (await read(ctx, `cat /sys/block/${d.device}/device/state 2>/dev/null`)).out || 'none');
  const h = judgeHealth(d.device, { smartJson, smartctl, nvme });
  const looked = `EVE's /persist/SMART_details.json (${smartJson ? 'not about this disk' : 'absent'}), smartctl (${smartctl ? 'no verdict' : 'absent'}), nvme-cli (${nvme ? 'no verdict' : 'absent or not NVMe'})`;
  if (h.verdict === 'none') {
    ctx.fact('looked-at', looked);
    expect(d.smart, `${dev} is declared to report its health (smart: true), but the box exposes none: ${looked}`).to.not.equal(true);
    notDeclared(test, `the profile declares no health reporting (smart) for ${d.name} and the box exposes no SMART or NVMe health for ${dev}: ${looked}`);
  }
  ctx.fact('health', h.said);
  expect(h.verdict, `${dev}: ${h.said.join('; ')}`).to.equal('pass');
}

function registerDisk(t: Bdd, ctx: SuiteContext, d: Disk): void {
  t.check({ item: d.name, check: 'present' }, `${d.name}: /dev/${d.device} present with ${d.sizeGb ? `${d.sizeGb} GB` : `at least ${MIN_DISK_GB} GB`}`, () => present(ctx, d));
  if (d.bus) t.check({ item: d.name, check: 'bus' }, `${d.name}: on the ${d.bus} bus (sysfs)`, () => bus(ctx, d));
  t.check({ item: d.name, check: 'read-speed' }, `${d.name}: direct-I/O read${d.minReadMBps ? ` at least ${d.minReadMBps} MB/s` : ' measured'}`, () => readSpeed(ctx, d));
  t.check({ item: d.name, check: 'write-speed' }, `${d.name}: direct-I/O write${d.minWriteMBps ? ` at least ${d.minWriteMBps} MB/s` : ' measured'}`, function () {
    return writeSpeed(this, ctx, d);
  });
  t.check({ item: d.name, check: 'health' }, `${d.name}: healthy (SMART / NVMe)`, function () {
    return health(this, ctx, d);
  });
}

export const storageSuite: SuiteModule = {
  capability: 'storage',
  proves: { device: 'present', sizeGb: 'present', bus: 'bus', minReadMBps: 'read-speed', minWriteMBps: 'write-speed', smart: 'health' },
  register(t, ctx) {
    t.describe('storage', () => {
      const disks = ctx.profile.hardware.storage;
      if (disks.length === 0) notDeclaredCheck(t, 'disks', 'the profile declares no disk');
      for (const d of disks) registerDisk(t, ctx, d);
    });
  },
};
