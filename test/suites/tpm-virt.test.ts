// The tpm, virtualization and inventory suites against boxes made of folders (test/helpers/fake-box.ts), and the
// kernel-line classification they rest on. Each test is named after the false pass or the rule it holds.
import { expect } from 'chai';
import { classifyHypLines, classifyIommuLines } from '../../suites/kernel-lines.ts';
import { inventorySuite } from '../../suites/inventory.ts';
import { tpmSuite } from '../../suites/tpm.ts';
import { virtualizationSuite } from '../../suites/virtualization.ts';
import { FakeBox, profileWith, runOn } from '../helpers/fake-box.ts';

// arch/arm64/kvm/arm.c and arch/arm64/kernel/smp.c, as a box prints them
const HYP_NOT_AVAILABLE = '[    0.532121] kvm [1]: HYP mode not available';
const EL1 = '[    0.012345] CPU: All CPU(s) started at EL1';
const EL2 = '[    0.012345] CPU: All CPU(s) started at EL2';
const VHE = '[    0.601000] kvm [1]: VHE mode initialized successfully';

/** A box with a TPM 2.0 answering with a SHA-256 bank, and CONFIG as EVE leaves it. */
function tpmBox(config: { cert?: boolean; key?: boolean }): FakeBox {
  const b = new FakeBox();
  b.file('/dev/tpmrm0', '').file('/sys/class/tpm/tpm0/tpm_version_major', '2\n');
  b.file('/sys/class/tpm/tpm0/pcr-sha256/0', `${'a1'.repeat(32).toUpperCase()}\n`).file('/sys/class/tpm/tpm0/pcr-sha1/0', `${'b2'.repeat(20)}\n`);
  if (config.cert) b.file('/config/device.cert.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  if (config.key) b.file('/config/device.key.pem', '-----BEGIN PRIVATE KEY-----\nMHcC\n-----END PRIVATE KEY-----\n');
  return b;
}

function armBox(dmesg: string[], kvm = false): FakeBox {
  const b = new FakeBox().output('dmesg', `${dmesg.join('\n')}\n`);
  if (kvm) b.file('/dev/kvm', '');
  return b;
}

describe('tpm, virtualization and inventory suites (fake boxes)', function () {
  this.timeout(60_000);
  const boxes: FakeBox[] = [];
  const box = (b: FakeBox) => (boxes.push(b), b);
  after(() => boxes.forEach((b) => b.close()));
  const tpmProfile = profileWith('qemu-amd64.yaml', { tpm: { version: '2.0' } });
  const armVirt = profileWith('qemu-arm64.yaml', { virtualization: { cpu: true, iommu: true } });
  const x86Virt = profileWith('qemu-amd64.yaml', { virtualization: { cpu: true, iommu: true } });

  it('EVE keeps its device key in the TPM: /config/device.cert.pem and no device.key.pem passes, with both recorded', async () => {
    const r = await runOn(box(tpmBox({ cert: true })), tpmSuite, tpmProfile);
    const t = r['tpm/eve-device-key']!;
    expect(t.outcome, t.message).to.equal('pass');
    expect(t.facts).to.deep.include({ '/config/device.cert.pem': 'present (PEM certificate)', '/config/device.key.pem': 'absent' });
    expect(r['tpm/tpm2-present']!.outcome).to.equal('pass');
    expect(r['tpm/sha256-bank']!.facts).to.have.property('banks').that.deep.equals(['sha1', 'sha256']);
  });

  it('a device certificate AND /config/device.key.pem means EVE did not use the TPM (its soft-key fallback): fail', async () => {
    const r = await runOn(box(tpmBox({ cert: true, key: true })), tpmSuite, tpmProfile);
    const t = r['tpm/eve-device-key']!;
    expect(t.outcome, t.message).to.equal('fail');
    expect(t.message).to.match(/device\.key\.pem.*EVE did not use the TPM/);
  });

  it('no device certificate yet is an error (EVE has made no identity to judge), not a pass', async () => {
    const t = (await runOn(box(tpmBox({})), tpmSuite, tpmProfile))['tpm/eve-device-key']!;
    expect(t.outcome, t.message).to.equal('error');
    expect(t.message).to.match(/no \/config\/device\.cert\.pem/);
  });

  it('arm64: a dmesg with "HYP mode not available" (and no /dev/kvm) fails the CPU check, naming the line', async () => {
    const r = await runOn(box(armBox([EL1, HYP_NOT_AVAILABLE])), virtualizationSuite, armVirt);
    const t = r['virtualization/cpu-extensions']!;
    expect(t.outcome, t.message).to.equal('fail');
    expect(t.message).to.contain('HYP mode not available');
  });

  it('arm64: a positive kernel line (VHE mode initialized, all CPUs at EL2) or /dev/kvm passes, with what was read', async () => {
    const lines = await runOn(box(armBox([EL2, VHE])), virtualizationSuite, armVirt);
    expect(lines['virtualization/cpu-extensions']!.outcome, lines['virtualization/cpu-extensions']!.message).to.equal('pass');
    expect(lines['virtualization/cpu-extensions']!.facts).to.deep.include({ '/dev/kvm': 'absent', 'kernel-positive': [EL2, VHE].map((l) => l.replace(/^\[[^\]]*\] /, '')) });
    const kvm = await runOn(box(armBox([], true)), virtualizationSuite, armVirt);
    expect(kvm['virtualization/cpu-extensions']!.outcome).to.equal('pass');
  });

  it('x86: the vmx flag without /dev/kvm fails (KVM unusable), both with /dev/kvm passes', async () => {
    const flagOnly = box(new FakeBox().file('/proc/cpuinfo', 'processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n'));
    expect((await runOn(flagOnly, virtualizationSuite, x86Virt))['virtualization/cpu-extensions']!.outcome).to.equal('fail');
    const both = box(new FakeBox().file('/proc/cpuinfo', 'processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n').file('/dev/kvm', ''));
    const t = (await runOn(both, virtualizationSuite, x86Virt))['virtualization/cpu-extensions']!;
    expect(t.outcome, t.message).to.equal('pass');
    expect(t.facts).to.deep.include({ 'cpu-flags': ['vmx'], '/dev/kvm': 'present' });
  });

  it('IOMMU: groups without an IOMMU unit (vfio no-IOMMU) fail; a DMAR unit with groups passes; no groups fails', async () => {
    const noUnit = box(new FakeBox().dir('/sys/kernel/iommu_groups/0'));
    expect((await runOn(noUnit, virtualizationSuite, x86Virt))['virtualization/iommu']!.outcome).to.equal('fail');
    const ok = box(new FakeBox().dir('/sys/class/iommu/dmar0').dir('/sys/kernel/iommu_groups/0').dir('/sys/kernel/iommu_groups/1').output('dmesg', '[    0.1] DMAR: IOMMU enabled\n'));
    const t = (await runOn(ok, virtualizationSuite, x86Virt))['virtualization/iommu']!;
    expect(t.outcome, t.message).to.equal('pass');
    expect(t.facts).to.deep.include({ 'iommu-units': ['dmar0'], 'iommu-groups': 2, 'kernel-lines': ['DMAR: IOMMU enabled'] });
    const noGroups = box(new FakeBox().dir('/sys/class/iommu/dmar0'));
    expect((await runOn(noGroups, virtualizationSuite, x86Virt))['virtualization/iommu']!.outcome).to.equal('fail');
  });

  it('inventory: a box that gives nothing (every command fails) is an error, not a pass', async () => {
    const t = (await runOn(box(new FakeBox()), inventorySuite, tpmProfile))['inventory/collected']!;
    expect(t.outcome, t.message).to.equal('error');
    expect(t.message).to.match(/nothing/);
  });

  it('inventory: a pass lists what it read and what the box lacks', async () => {
    const b = box(new FakeBox().file('/proc/cpuinfo', 'processor\t: 0\n').file('/proc/meminfo', 'MemTotal: 1 kB\n').output('uname', 'Linux eve 6.1.0 aarch64\n'));
    const t = (await runOn(b, inventorySuite, tpmProfile))['inventory/collected']!;
    expect(t.outcome, t.message).to.equal('pass');
    expect(t.facts!.read).to.include.members(['cpuinfo', 'meminfo', 'uname']);
    expect(t.facts!['not-available']).to.include.members(['dmi', 'pci', 'watchdog', 'eve-release']);
  });

  it('proves: tpm version, virtualization cpu and iommu', () => {
    expect(tpmSuite.proves).to.deep.equal({ version: 'tpm2-present' });
    expect(virtualizationSuite.proves).to.deep.equal({ cpu: 'cpu-extensions', iommu: 'iommu' });
  });
});

describe('kernel lines (pure)', () => {
  it('"HYP mode not available" is negative, never positive; the EL2 and KVM init lines are positive', () => {
    expect(classifyHypLines([HYP_NOT_AVAILABLE, EL1])).to.deep.equal({ positive: [], negative: [HYP_NOT_AVAILABLE, EL1] });
    const ok = ['[0.1] kvm [1]: Hyp mode initialized successfully', VHE, '[0.2] kvm [1]: Protected nVHE mode initialized successfully', EL2];
    expect(classifyHypLines(ok)).to.deep.equal({ positive: ok, negative: [] });
    expect(classifyHypLines(['[0.3] kvm [1]: error initializing Hyp mode: -22', '[0.1] CPU: CPUs started in inconsistent modes']).negative).to.have.length(2);
    expect(classifyHypLines(['[0.3] something about hyp mode']).positive).to.deep.equal([]);
  });

  it('IOMMU lines: DMAR/AMD-Vi/SMMU enabled are positive, disabled ones negative', () => {
    const r = classifyIommuLines(['DMAR: IOMMU enabled', 'AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40', 'arm-smmu-v3 arm-smmu-v3.0.auto: probing hardware configuration...', 'DMAR: IOMMU disabled', 'DMAR: Host address width 39']);
    expect(r.positive).to.have.length(3);
    expect(r.negative).to.deep.equal(['DMAR: IOMMU disabled']);
    // what the fixture's q35 box under TCG prints: no IOMMU, though the lines name one
    const tcg = ['[    3.366527] iommu: Default domain type: Translated ', '[    3.368223] iommu: DMA domain TLB invalidation policy: lazy mode ', '[    8.521773] AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.'];
    expect(classifyIommuLines(tcg).positive).to.deep.equal([]);
  });
});
