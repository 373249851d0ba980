// usb: every declared device enumerates (by vendor:product, or by class, on the declared port where known); a
// declared storage stick is written and read back with a checksum, in a 1 MiB window near its end.
// On EVE, usb_storage is blacklisted (blacklist-eve.conf) and domainmgr loads it only while debug.enable.usb is
// true: a stick that enumerates without a block device while /sys/module/usb_storage is absent is the box's
// configuration (an error naming the setting), not a missing stick.
// The stick's data is put back before anything is checked, so a failing check never leaves it damaged; the read-back
// goes around the page cache with O_DIRECT (or a buffer flush), never by writing /proc/sys/vm/drop_caches, which
// the debug container SSH lands in need not allow. Which way it went is a fact.
import { expect } from 'chai';
import { BoxError, ConfigError, LabError } from '../lib/errors.ts';
import { notDeclaredCheck, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';

interface UsbDevice {
  path: string;
  id: string;
  serial: string;
  classes: string[];
}

const CLASS: Record<string, string> = { 'mass-storage': '08', hid: '03', serial: '02', network: '02', hub: '09' };

/** The ways the read-back bypasses the page cache, as recorded in the facts. */
const READ_BACK: Record<string, string> = {
  direct: 'O_DIRECT (dd iflag=direct)',
  flushbufs: 'BLKFLSBUF (blockdev --flushbufs), then a buffered read',
};

async function listUsb(ctx: SuiteContext): Promise<UsbDevice[]> {
  const r = await read(
    ctx,
    `for d in /sys/bus/usb/devices/*; do [ -f $d/idVendor ] || continue; c=$(cat $d/*:*/bInterfaceClass 2>/dev/null | tr '\\n' ,); echo "$(basename $d) $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/serial 2>/dev/null | tr ' ' _) $c"; done`,
  );
  return r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [path, id, serial, cls] = l.split(' ');
      return { path: path!, id: id!, serial: serial ?? '', classes: (cls ?? '').split(',').filter(Boolean) };
    });
}

function matches(d: UsbDevice, want: { vendorProduct?: string | undefined; class?: string | undefined; port?: string | undefined }): boolean {
  if (want.vendorProduct && d.id !== want.vendorProduct) return false;
  if (want.class && CLASS[want.class] && !d.classes.includes(CLASS[want.class]!)) return false;
  if (want.port && d.path !== want.port) return false;
  return true;
}

/** The stick's block device (sdX); without one, says whether EVE's configuration kept usb_storage out. */
async function blockDeviceOf(ctx: SuiteContext, name: string, d: UsbDevice): Promise<string> {
  const blk = await read(ctx, `ls -d /sys/bus/usb/devices/${d.path}/*/host*/target*/*/block/* 2>/dev/null | head -1 | xargs -r basename`);
  if (/^sd[a-z]+$/.test(blk.out)) return blk.out;
  const mod = await read(ctx, '[ -d /sys/module/usb_storage ] && echo loaded || echo absent');
  ctx.fact('usb_storage', mod.out === 'loaded' ? 'loaded (/sys/module/usb_storage present)' : 'not loaded (/sys/module/usb_storage absent)');
  if (mod.out !== 'loaded') {
    throw new ConfigError(
      `${name} enumerated (${d.id} on USB port ${d.path}) but has no block device because the usb_storage driver is not loaded (/sys/module/usb_storage absent): EVE blacklists usb_storage and its domainmgr loads it only while debug.enable.usb is true, which this box's configuration sets false (a controller's default, or /config/GlobalConfig/global.json). Set debug.enable.usb to true to test USB storage`,
    );
  }
  throw new BoxError(`${name} enumerated (${d.id} on USB port ${d.path}) and usb_storage is loaded, but the stick has no block device`);
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
    `dd if=$t/pat of=${dev} ${win} seek=${skip} conv=notrunc,fsync 2>/dev/null; echo write=$?`,
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
  return Object.fromEntries(r.out.split('\n').flatMap((l) => (/^\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])));
}

async function storesData(ctx: SuiteContext, name: string, d: UsbDevice | undefined): Promise<void> {
  expect(d, `${name} did not enumerate`).to.not.equal(undefined);
  const blk = await blockDeviceOf(ctx, name, d!);
  const dev = `/dev/${blk}`;
  const sectors = Number((await read(ctx, `cat /sys/block/${blk}/size`)).out);
  if (!(sectors > 4096)) throw new LabError(`${dev} reports ${sectors} sectors: too small to test`);
  const skip = Math.floor((sectors * 512) / (1 << 20)) - 2; // MiB offset of the test window
  ctx.fact('device', dev);
  const s = await writeReadRestore(ctx, dev, skip);
  // The stick is back as it was (or could not be) before any check below may fail.
  ctx.fact('restored', { before: s.orig, after: s.after });
  if (s.restore !== '0' || !s.after || s.after !== s.orig) {
    throw new BoxError(`${dev}: the 1 MiB at ${skip} MiB could not be put back as it was (restore exit ${s.restore}, sha256 ${s.orig} before, ${s.after ?? 'unreadable'} after)`);
  }
  if (s.method === 'none') throw new LabError(`on ${ctx.box.name}: cannot read ${dev} around the page cache (neither dd iflag=direct nor blockdev --flushbufs works), so a read-back would prove nothing`);
  ctx.fact('read-back', READ_BACK[s.method!] ?? s.method);
  ctx.fact('sha256', { written: s.pat, read: s.back });
  expect(s.write, `writing ${dev} failed (dd exit ${s.write})`).to.equal('0');
  expect(s.back, `data read back from ${dev} differs from what was written`).to.equal(s.pat);
}

export const usbSuite: SuiteModule = {
  capability: 'usb',
  proves: {},
  register(t, ctx) {
    t.describe('usb', () => {
      const devices = ctx.profile.hardware.usb;
      if (devices.length === 0) {
        notDeclaredCheck(t, 'USB devices', 'the profile declares no USB device');
      }
      // Each declared device claims one enumerated device, so two identical sticks need two.
      const claimed = new Set<string>();
      const found = new Map<string, UsbDevice>();
      for (const u of devices) {
        t.check({ item: u.name, check: 'enumerates' }, `${u.name}: enumerates`, async () => {
          const all = await listUsb(ctx);
          ctx.fact('usb-devices', all.map((d) => `${d.path} ${d.id} ${d.classes.join(',')}`));
          const d = all.find((x) => !claimed.has(x.path) && matches(x, u));
          expect(d, `no USB device ${u.vendorProduct ?? u.class ?? ''}${u.port ? ` on port ${u.port}` : ''} enumerated (found: ${all.map((x) => x.id).join(', ') || 'none'})`).to.not.equal(undefined);
          claimed.add(d!.path);
          found.set(u.name, d!);
        });
        if (u.storage) t.check({ item: u.name, check: 'stores-data' }, `${u.name}: stores data (written, read back, sha256)`, () => storesData(ctx, u.name, found.get(u.name)));
      }
    });
  },
};
