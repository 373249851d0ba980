// usb: every declared device enumerates (by vendor:product, or by class, on the declared port where known); a
// declared storage stick is written and read back with a checksum (in a 1 MiB window near its end, restored after).
import { expect } from 'chai';
import { LabError } from '../lib/errors.ts';
import { notDeclared, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

interface UsbDevice {
  path: string;
  id: string;
  serial: string;
  classes: string[];
}

const CLASS: Record<string, string> = { 'mass-storage': '08', hid: '03', serial: '02', network: '02', hub: '09' };

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

export const usbSuite: SuiteModule = {
  capability: 'usb',
  register({ describe, it }, ctx) {
    describe('usb', () => {
      const devices = ctx.profile.hardware.usb;
      if (devices.length === 0) {
        it('USB devices', function () {
          notDeclared(this, 'the profile declares no USB device');
        });
      }
      // Each declared device claims one enumerated device, so two identical sticks need two.
      const claimed = new Set<string>();
      const found = new Map<string, UsbDevice>();
      for (const u of devices) {
        it(`${u.name}: enumerates`, async () => {
          const all = await listUsb(ctx);
          ctx.fact('usb-devices', all.map((d) => `${d.path} ${d.id} ${d.classes.join(',')}`));
          const d = all.find((x) => !claimed.has(x.path) && matches(x, u));
          expect(d, `no USB device ${u.vendorProduct ?? u.class ?? ''}${u.port ? ` on port ${u.port}` : ''} enumerated (found: ${all.map((x) => x.id).join(', ') || 'none'})`).to.not.equal(undefined);
          claimed.add(d!.path);
          found.set(u.name, d!);
        });
        if (u.storage) {
          it(`${u.name}: stores data (written, read back, sha256)`, async () => {
            const d = found.get(u.name);
            expect(d, `${u.name} did not enumerate`).to.not.equal(undefined);
            const blk = await read(ctx, `ls -d /sys/bus/usb/devices/${d!.path}/*/host*/target*/*/block/* 2>/dev/null | head -1 | xargs -r basename`);
            expect(blk.out, `${u.name} enumerated but has no block device`).to.match(/^sd[a-z]+$/);
            const dev = `/dev/${blk.out}`;
            const sectors = Number((await read(ctx, `cat /sys/block/${blk.out}/size`)).out);
            if (!(sectors > 4096)) throw new LabError(`${dev} reports ${sectors} sectors: too small to test`);
            const skip = Math.floor((sectors * 512) / (1 << 20)) - 2; // MiB offset of the test window
            ctx.fact('device', dev);
            const script = [
              'set -e',
              `t=$(mktemp -d)`,
              `dd if=${dev} of=$t/orig bs=1M skip=${skip} count=1 2>/dev/null`,
              `dd if=/dev/urandom of=$t/pat bs=1M count=1 2>/dev/null`,
              `dd if=$t/pat of=${dev} bs=1M seek=${skip} count=1 conv=fsync 2>/dev/null`,
              `echo 3 > /proc/sys/vm/drop_caches`,
              `dd if=${dev} of=$t/back bs=1M skip=${skip} count=1 iflag=direct 2>/dev/null || dd if=${dev} of=$t/back bs=1M skip=${skip} count=1 2>/dev/null`,
              `a=$(sha256sum < $t/pat | cut -c1-64); b=$(sha256sum < $t/back | cut -c1-64)`,
              `dd if=$t/orig of=${dev} bs=1M seek=${skip} count=1 conv=fsync 2>/dev/null`,
              `rm -rf $t; echo "$a $b"`,
            ].join('; ');
            const r = await read(ctx, `sh -c '${script}'`, 120_000);
            const [a, b] = r.out.split(/\s+/);
            ctx.fact('sha256', { written: a, read: b });
            expect(r.code, `write/read on ${dev} failed: ${r.out}`).to.equal(0);
            expect(b, `data read back from ${dev} differs from what was written`).to.equal(a);
          });
        }
      }
    });
  },
};
