// virtualization: the CPU's virtualization extensions (VT-x / AMD-V on x86; EL2 on ARM, seen as /dev/kvm or the
// kernel's "Hyp mode" line) and IOMMU groups (VT-d / SMMU) for device assignment.
import { expect } from 'chai';
import { notDeclaredCheck, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

export const virtualizationSuite: SuiteModule = {
  capability: 'virtualization',
  proves: {},
  register(t, ctx) {
    t.describe('virtualization', () => {
      const v = ctx.profile.hardware.virtualization;
      if (!v) {
        notDeclaredCheck(t, 'virtualization support', 'the profile declares no virtualization support');
        return;
      }
      if (v.cpu) {
        t.check({ check: 'cpu-extensions' }, 'virtualization: CPU extensions enabled', async () => {
          const cmd = ctx.profile.box.arch === 'amd64'
            ? "grep -m1 -o -w -E 'vmx|svm' /proc/cpuinfo"
            : "test -e /dev/kvm && echo kvm || dmesg 2>/dev/null | grep -m1 -i 'hyp mode'";
          const r = await read(ctx, cmd);
          ctx.fact('cpu', r.out);
          expect(r.out, 'no virtualization extensions visible (enabled in the BIOS/firmware?)').to.not.equal('');
        });
      }
      if (v.iommu) {
        t.check({ check: 'iommu' }, 'virtualization: IOMMU groups present', async () => {
          const r = await read(ctx, 'ls /sys/kernel/iommu_groups 2>/dev/null | wc -l');
          ctx.fact('iommu_groups', Number(r.out));
          expect(Number(r.out), 'no IOMMU groups in /sys/kernel/iommu_groups (VT-d / SMMU off?)').to.be.greaterThan(0);
        });
      }
    });
  },
};
