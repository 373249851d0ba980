// virtualization: hardware virtualization usable by KVM (x86: the vmx/svm CPU flag AND /dev/kvm; arm64: /dev/kvm
// or a kernel line proving EL2 for KVM, never one that says it is not there), and an IOMMU in use for device
// assignment (a unit the kernel registered in /sys/class/iommu, or its DMAR/AMD-Vi/SMMU line, AND IOMMU groups).
import { expect } from 'chai';
import { notDeclaredCheck, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { classifyHypLines, classifyIommuLines, stripStamp } from './kernel-lines.ts';

async function kernelLines(ctx: SuiteContext, pattern: string): Promise<string[]> {
  const r = await read(ctx, `dmesg 2>/dev/null | grep -i -E '${pattern}' | tail -40`);
  return r.out ? r.out.split('\n') : [];
}

async function devKvm(ctx: SuiteContext): Promise<boolean> {
  const present = (await read(ctx, 'test -e /dev/kvm && echo present')).out === 'present';
  ctx.fact('/dev/kvm', present ? 'present' : 'absent');
  return present;
}

async function x86Cpu(ctx: SuiteContext): Promise<void> {
  const flags = (await read(ctx, "grep -o -w -E 'vmx|svm' /proc/cpuinfo | sort -u")).out.split('\n').filter(Boolean);
  ctx.fact('cpu-flags', flags);
  const kvm = await devKvm(ctx);
  const lines = (await kernelLines(ctx, 'kvm|vmx|svm')).map(stripStamp);
  ctx.fact('kernel-lines', lines);
  expect(flags.length, 'no vmx or svm flag in /proc/cpuinfo: VT-x/AMD-V is absent or off in the firmware').to.be.greaterThan(0);
  expect(kvm, `the CPU has ${flags.join(', ')} but /dev/kvm is absent: KVM cannot use it${lines.length ? ` (kernel: ${lines.join('; ')})` : ''}`).to.equal(true);
}

async function armCpu(ctx: SuiteContext): Promise<void> {
  const kvm = await devKvm(ctx);
  const c = classifyHypLines(await kernelLines(ctx, 'kvm \\[|CPU: All CPU|CPU: CPUs started'));
  ctx.fact('kernel-positive', c.positive.map(stripStamp));
  ctx.fact('kernel-negative', c.negative.map(stripStamp));
  if (kvm) return;
  expect(c.negative.length, `no /dev/kvm, and the kernel says: ${c.negative.map(stripStamp).join('; ')}`).to.equal(0);
  expect(c.positive.length, 'no /dev/kvm and no kernel line proving EL2 for KVM (Hyp/VHE mode initialized, all CPUs started at EL2)').to.be.greaterThan(0);
}

async function iommu(ctx: SuiteContext): Promise<void> {
  const units = (await read(ctx, 'ls /sys/class/iommu 2>/dev/null')).out.split('\n').filter(Boolean);
  const groups = Number((await read(ctx, 'ls /sys/kernel/iommu_groups 2>/dev/null | wc -l')).out) || 0;
  const c = classifyIommuLines(await kernelLines(ctx, 'DMAR|AMD-Vi|IVRS|smmu|iommu'));
  ctx.fact('iommu-units', units);
  ctx.fact('iommu-groups', groups);
  ctx.fact('kernel-lines', c.positive.map(stripStamp));
  if (c.negative.length) ctx.fact('kernel-negative', c.negative.map(stripStamp));
  const seen = units.length > 0 || c.positive.length > 0;
  expect(seen, `no IOMMU unit in /sys/class/iommu and no kernel line saying one came up${c.negative.length ? ` (kernel: ${c.negative.map(stripStamp).join('; ')})` : ''}${groups ? `: the ${groups} IOMMU groups are not a hardware IOMMU's (vfio no-IOMMU?)` : ': VT-d / AMD-Vi / SMMU off?'}`).to.equal(true);
  expect(groups, `the IOMMU (${units.join(', ') || 'kernel lines'}) put no device in a group in /sys/kernel/iommu_groups: nothing can be assigned`).to.be.greaterThan(0);
}

export const virtualizationSuite: SuiteModule = {
  capability: 'virtualization',
  proves: { cpu: 'cpu-extensions', iommu: 'iommu' },
  register(t, ctx) {
    t.describe('virtualization', () => {
      const v = ctx.profile.hardware.virtualization;
      if (!v) {
        notDeclaredCheck(t, 'virtualization support', 'the profile declares no virtualization support');
        return;
      }
      const x86 = ctx.profile.box.arch === 'amd64';
      if (v.cpu) t.check({ check: 'cpu-extensions' }, x86 ? 'virtualization: VT-x/AMD-V usable by KVM' : 'virtualization: EL2 usable by KVM', () => (x86 ? x86Cpu(ctx) : armCpu(ctx)));
      if (v.iommu) t.check({ check: 'iommu' }, 'virtualization: IOMMU in use, with groups', () => iommu(ctx));
    });
  },
};
