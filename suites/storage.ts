// storage: every declared disk is present with (at least) its declared size, and reads sequentially at or above the
// profile's floor.
import { expect } from 'chai';
import { notDeclaredCheck, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

export const storageSuite: SuiteModule = {
  capability: 'storage',
  proves: {},
  register(t, ctx) {
    t.describe('storage', () => {
      const disks = ctx.profile.hardware.storage;
      if (disks.length === 0) {
        notDeclaredCheck(t, 'disks', 'the profile declares no disk');
      }
      for (const d of disks) {
        t.check({ item: d.name, check: 'present' }, `${d.name}: present as /dev/${d.device}${d.sizeGb ? ` with ${d.sizeGb} GB` : ''}`, async () => {
          const r = await read(ctx, `cat /sys/block/${d.device}/size 2>/dev/null`);
          expect(r.code, `no /sys/block/${d.device} on the box`).to.equal(0);
          const gb = (Number(r.out) * 512) / 1e9;
          ctx.fact('sizeGB', Number(gb.toFixed(2)));
          // Declared sizes are marketing sizes; allow GiB vs GB and a little more.
          if (d.sizeGb) expect(gb, `/dev/${d.device} is ${gb.toFixed(2)} GB`).to.be.at.least(d.sizeGb * 0.9);
        });
        if (d.minReadMBps) {
          t.check({ item: d.name, check: 'read-speed' }, `${d.name}: reads at least ${d.minReadMBps} MB/s`, async () => {
            const mb = 64;
            const t0 = Date.now();
            const r = await read(ctx, `dd if=/dev/${d.device} of=/dev/null bs=1M count=${mb} iflag=direct 2>/dev/null || dd if=/dev/${d.device} of=/dev/null bs=1M count=${mb}`, 300_000);
            const secs = (Date.now() - t0) / 1000;
            const rate = (mb * 1.048576) / secs;
            ctx.fact('readMBps', Number(rate.toFixed(1)));
            expect(r.code, `reading /dev/${d.device} failed`).to.equal(0);
            expect(rate, `/dev/${d.device} read ${rate.toFixed(1)} MB/s`).to.be.at.least(d.minReadMBps!);
          });
        }
      }
    });
  },
};
