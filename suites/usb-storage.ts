// A matched USB stick as storage: its block device, its capacity against the declared size, and a write read back
// with a checksum in a 1 MiB window near its end.
// On EVE, usb_storage is blacklisted (blacklist-eve.conf) and domainmgr loads it only while debug.enable.usb is
// true: a stick that enumerates without a block device while /sys/module/usb_storage is absent is the box's
// configuration (an error naming the setting), not a missing stick.
// The stick's data is put back before anything is checked, so a failing check never leaves it damaged; the read-back
// goes around the page cache with O_DIRECT (or a buffer flush), never by writing /proc/sys/vm/drop_caches, which
// the debug container SSH lands in need not allow. Which way it went is a fact.
import { expect } from 'chai';
import { BoxError, ConfigError, LabError } from '../lib/errors.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';
import { systemDiskOn } from './usb-match.ts';
import { readUsbView, type BlockDevice, type UsbDevice } from './usb-sysfs.ts';

/** The ways the read-back bypasses the page cache, as recorded in the facts. */
const READ_BACK: Record<string, string> = {
  direct: 'O_DIRECT (dd iflag=direct)',
  flushbufs: 'BLKFLSBUF (blockdev --flushbufs), then a buffered read',
};

/** Labels round sizes up: a stick holds at least this share of its declared MB. */
const SIZE_TOLERANCE = 0.9;

/** The stick's block device (read now: usb_storage may have bound after the device enumerated); without one, says
 * whether EVE's configuration kept usb_storage out. Never a disk EVE runs from. */
export async function blockDeviceOf(ctx: SuiteContext, name: string, matched: UsbDevice | undefined): Promise<BlockDevice> {
  expect(matched, `${name} did not enumerate`).to.not.equal(undefined);
  const view = await readUsbView(ctx);
  const d = view.devices.find((x) => x.sysPath === matched!.sysPath);
  expect(d, `${name} (${matched!.id} on USB port ${matched!.name}) is gone`).to.not.equal(undefined);
  const sys = systemDiskOn(d!, view);
  if (sys) throw new BoxError(`${name} (${d!.name}) now holds a disk EVE runs from (${sys.why}): it is not written`);
  const blk = view.blocks.find((b) => b.sysPath.startsWith(`${d!.sysPath}/`));
  if (blk) return blk;
  const mod = await read(ctx, '[ -d /sys/module/usb_storage ] && echo loaded || echo absent');
  ctx.fact('usb_storage', mod.out === 'loaded' ? 'loaded (/sys/module/usb_storage present)' : 'not loaded (/sys/module/usb_storage absent)');
  if (mod.out !== 'loaded') {
    throw new ConfigError(
      `${name} enumerated (${d!.id} on USB port ${d!.name}) but has no block device because the usb_storage driver is not loaded (/sys/module/usb_storage absent): EVE blacklists usb_storage and its domainmgr loads it only while debug.enable.usb is true, which this box's configuration sets false (a controller's default, or /config/GlobalConfig/global.json). Set debug.enable.usb to true to test USB storage`,
    );
  }
  throw new BoxError(`${name} enumerated (${d!.id} on USB port ${d!.name}) and usb_storage is loaded, but the stick has no block device`);
}

/** The stick's capacity (from /sys/block/<dev>/size) is at least the declared size, within label rounding. */
export async function hasDeclaredSize(ctx: SuiteContext, name: string, matched: UsbDevice | undefined, sizeMb: number): Promise<void> {
  const blk = await blockDeviceOf(ctx, name, matched);
  const mb = (blk.sectors * 512) / 1e6;
  ctx.fact('declared-MB', sizeMb);
  ctx.fact('device', `/dev/${blk.name}`);
  ctx.fact('sectors', blk.sectors);
  ctx.fact('capacity-MB', Number(mb.toFixed(1)));
  expect(mb, `/dev/${blk.name} holds ${mb.toFixed(1)} MB (${blk.sectors} sectors in /sys/block/${blk.name}/size), less than the ${sizeMb} MB declared (at least ${SIZE_TOLERANCE * sizeMb} accepted)`).to.be.at.least(SIZE_TOLERANCE * sizeMb);
}

/**
 * One shell script: save the window, write a random pattern (fsync), read it back around the page
 * cache, put the saved data back and read that back too; it never stops early once the pattern may be on the stick.
 * Prints key=value lines (step exit codes, the read-back method, sha256 of each copy).
 */
function writeReadRestoreScript(dev: string, skip: number): string {
  const win = `bs=1M count=1`;
  return [
    't=$(mktemp -d) || exit 90',
    `dd if=${dev} of=$t/orig ${win} skip=${skip} iflag=direct 2>/dev/null || dd if=${dev} of=$t/orig ${win} skip=${skip} 2>/dev/null || { rm -rf $t; exit 91; }`,
    `dd if=/dev/urandom of=$t/pat ${win} 2>/dev/null || { rm -rf $t; exit 92; }`,
    `dd if=$t/pat of=${dev} ${win} seek=${skip} conv=notrunc,fsync 2>$t/err; echo write=$?; echo "write-error=$(tail -n 1 $t/err)"`,
    `if dd if=${dev} of=$t/back ${win} skip=${skip} iflag=direct 2>/dev/null; then echo method=direct`,
    `elif blockdev --flushbufs ${dev} && dd if=${dev} of=$t/back ${win} skip=${skip} 2>/dev/null; then echo method=flushbufs`,
    'else echo method=none; fi',
    `dd if=$t/orig of=${dev} ${win} seek=${skip} conv=notrunc,fsync 2>/dev/null; echo restore=$?`,
    `dd if=${dev} of=$t/after ${win} skip=${skip} iflag=direct 2>/dev/null || { blockdev --flushbufs ${dev}; dd if=${dev} of=$t/after ${win} skip=${skip} 2>/dev/null; }`,
    'for f in orig pat back after; do [ -f $t/$f ] && echo "$f=$(sha256sum < $t/$f | cut -c1-64)"; done',
    'rm -rf $t',
  ].join('\n');
}

async function writeReadRestore(ctx: SuiteContext, dev: string, skip: number): Promise<Record<string, string>> {
  const r = await read(ctx, `sh -c ${q(writeReadRestoreScript(dev, skip))}`, 120_000);
  if (r.code >= 90) throw new LabError(`on ${ctx.box.name}: cannot stage the write test of ${dev} (step ${r.code - 90} of the script failed before anything was written): ${r.out.slice(-300)}`);
  return Object.fromEntries(r.out.split('\n').flatMap((l) => (/^[\w-]+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])));
}

/** Written, read back around the page cache and compared; a write-protected stick fails without a write. */
export async function storesData(ctx: SuiteContext, name: string, matched: UsbDevice | undefined): Promise<void> {
  const blk = await blockDeviceOf(ctx, name, matched);
  const dev = `/dev/${blk.name}`;
  ctx.fact('device', dev);
  ctx.fact('ro', `/sys/block/${blk.name}/ro = ${blk.readOnly ? 1 : 0}`);
  expect(blk.readOnly, `${dev} is write-protected (/sys/block/${blk.name}/ro = 1): the stick cannot store data`).to.equal(false);
  if (!(blk.sectors > 4096)) throw new LabError(`${dev} reports ${blk.sectors} sectors: too small to test`);
  const skip = Math.floor((blk.sectors * 512) / (1 << 20)) - 2; // MiB offset of the test window
  const s = await writeReadRestore(ctx, dev, skip);
  // The stick is as it was (put back, or never changed by a write that failed) before any check below may fail.
  ctx.fact('restored', { before: s.orig, after: s.after, exit: s.restore });
  if (!s.after || s.after !== s.orig) {
    throw new BoxError(`${dev}: the 1 MiB at ${skip} MiB could not be put back as it was (restore exit ${s.restore}, sha256 ${s.orig} before, ${s.after ?? 'unreadable'} after)`);
  }
  ctx.fact('write', s.write === '0' ? 'dd exit 0' : `dd exit ${s.write}: ${s['write-error']}`);
  expect(s.write, `writing ${dev} failed (dd exit ${s.write}: ${s['write-error']})`).to.equal('0');
  if (s.method === 'none') throw new LabError(`on ${ctx.box.name}: cannot read ${dev} around the page cache (neither dd iflag=direct nor blockdev --flushbufs works), so a read-back would prove nothing`);
  ctx.fact('read-back', READ_BACK[s.method!] ?? s.method);
  ctx.fact('sha256', { written: s.pat, read: s.back });
  expect(s.back, `data read back from ${dev} differs from what was written`).to.equal(s.pat);
}
