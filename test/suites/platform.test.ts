// The inventory, storage, tpm and virtualization suites on one installed amd64 box of the fixture release, over SSH
// into its debug container as a run does (busybox: dd without a byte line, date without %N), against what EVE does:
//   EVE's installer keeps the device key in the TPM when /dev/tpmrm0 works (device.cert.pem, no device.key.pem) and
//   falls back to a soft key file otherwise; the install disk is written only through a scratch file on /persist;
//   a QEMU q35 box under TCG has no usable KVM and no IOMMU, so declaring virtualization must fail, not pass.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestResult } from '../../lib/report/results.ts';
import { runInstall, type InstallRunResult } from '../../lib/run/install-run.ts';
import { ConsoleShell } from '../../lib/shell/console-shell.ts';
import type { Shell } from '../../lib/shell/shell.ts';
import { runSuites } from '../../lib/suite-runtime/run-suites.ts';
import type { SuiteModule } from '../../lib/suite-runtime/suite-context.ts';
import { inventorySuite } from '../../suites/inventory.ts';
import { storageSuite } from '../../suites/storage.ts';
import { tpmSuite } from '../../suites/tpm.ts';
import { virtualizationSuite } from '../../suites/virtualization.ts';
import { fixtureRelease, profileVariant } from '../helpers/fixture-release.ts';

describe('inventory, storage, tpm and virtualization suites on the virtual box (EVE behaviours)', function () {
  this.timeout(3_600_000);
  let r: InstallRunResult;
  let out: string;
  let results: Record<string, TestResult>;
  const commands: string[] = [];

  /** The run's SSH shell, every command it is given recorded. */
  function recorded(): Shell {
    const ssh = r.outcome.ssh;
    return { where: ssh.where, run: (cmd, o) => (commands.push(cmd), ssh.run(cmd, o)), put: (l, m, o) => ssh.put(l, m, o), get: (m, l, o) => ssh.get(m, l, o), close: () => ssh.close() };
  }

  async function suites(modules: SuiteModule[], shell: Shell): Promise<Record<string, TestResult>> {
    const list = await runSuites({
      ctx: { profile: r.loaded.profile, box: r.box, shell, console: r.box.console, runDir: out, reconnect: () => Promise.resolve() },
      modules,
      onTest: () => undefined,
    });
    return Object.fromEntries(list.map((t) => [t.id, t]));
  }

  before(async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-platform-'));
    const profile = profileVariant('qemu-amd64.yaml', 'platform', [
      [/- \{ name: disk0, device: vda, sizeGb: 2, bus: virtio \}/, '- { name: disk0, device: vda, sizeGb: 2, bus: virtio, minReadMBps: 1, minWriteMBps: 1 }'],
      [/\n  storage:\n/, '\n  virtualization: { cpu: true, iommu: true }\n  storage:\n'],
    ]);
    r = await runInstall({ profileFile: profile, releaseSrc: release, out });
    results = await suites([inventorySuite, storageSuite, tpmSuite, virtualizationSuite], recorded());
  });

  after(async () => {
    await r?.scope.close();
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  function result(id: string): TestResult {
    expect(results[id], `${id} in ${Object.keys(results).join(', ')}`).to.not.equal(undefined);
    return results[id]!;
  }

  it('inventory passes listing what it read from the box', () => {
    const t = result('inventory/collected');
    expect(t.outcome, t.message).to.equal('pass');
    expect(t.facts!.read).to.include.members(['eve-release', 'uname', 'cpuinfo', 'block', 'pci']);
    expect(t.facts!['eve-release']).to.match(/^0\.0\.0-fixture-kvm-amd64/);
  });

  it('storage: the 2 GiB virtio disk is present on virtio (sysfs), reads and writes timed on the box with direct I/O', () => {
    expect(result('storage/disk0/present').facts).to.deep.include({ device: '/dev/vda', 'size-bytes': 2048 * 1024 * 1024 });
    const bus = result('storage/disk0/bus');
    expect(bus.outcome, bus.message).to.equal('pass');
    expect(bus.facts).to.deep.include({ bus: 'virtio', driver: 'virtio_blk' });
    const rd = result('storage/disk0/read-speed');
    expect(rd.outcome, rd.message).to.equal('pass');
    // busybox dd prints no byte line and busybox date no %N: the box's /proc/uptime timed it
    expect(rd.facts!.read).to.include({ clock: 'box /proc/uptime' });
    expect((rd.facts!.read as { command: string }).command).to.match(/iflag=direct$/);
    const wr = result('storage/disk0/write-speed');
    expect(wr.outcome, wr.message).to.equal('pass');
    expect(wr.facts!.target).to.match(/^scratch file on \/persist \(ext4 on \/dev\/vda9, the install disk\)$/);
    expect((wr.facts!.write as { command: string }).command).to.match(/ of=\/persist\/\S+ .*oflag=direct/);
  });

  it('storage never writes to the install disk or its partitions, and leaves no scratch file', async () => {
    expect(commands.filter((c) => /of=\/dev\/vda/.test(c))).to.deep.equal([]);
    expect((await r.outcome.ssh.run('ls /persist /tmp')).stdout).to.not.match(/eve-qual-write/);
  });

  it('storage health: QEMU virtio reports none; EVE has no SMART_details.json for it: a not-declared skip, what was looked at recorded', () => {
    const h = result('storage/disk0/health');
    expect(h.outcome).to.equal('skip');
    expect(h.reason).to.equal('not-declared');
    expect(h.facts!['looked-at']).to.match(/SMART_details\.json/);
  });

  it("tpm: EVE's installer kept the device key in the swtpm (device.cert.pem, no device.key.pem), with its log line", () => {
    for (const id of ['tpm/tpm2-present', 'tpm/sha256-bank', 'tpm/eve-device-key']) expect(result(id).outcome, `${id}: ${result(id).message}`).to.equal('pass');
    const t = result('tpm/eve-device-key');
    expect(t.facts).to.deep.include({ '/config/device.cert.pem': 'present (PEM certificate)', '/config/device.key.pem': 'absent' });
    expect(t.facts!.installer).to.include('Generated a TPM device certificate');
  });

  it('virtualization declared on a TCG q35 box (no KVM, no IOMMU) fails both checks with what was read: never a pass', () => {
    const cpu = result('virtualization/cpu-extensions');
    expect(cpu.outcome, cpu.message).to.equal('fail');
    expect(cpu.facts).to.deep.include({ '/dev/kvm': 'absent' });
    const iommu = result('virtualization/iommu');
    expect(iommu.outcome, iommu.message).to.equal('fail');
    expect(iommu.facts).to.deep.include({ 'iommu-units': [], 'iommu-groups': 0 });
  });

  it("EVE's soft-key fallback (device.key.pem beside the certificate) fails tpm/eve-device-key", async () => {
    // as EVE's installer leaves CONFIG when the TPM could not make the key: tpmmgr createSoftDeviceCert
    const con = new ConsoleShell(r.box.console);
    const made = await con.run('mount -o remount,rw /config && rm -f /config/device.cert.pem && tpmmgr createSoftDeviceCert && mount -o remount,ro /config && ls /config');
    expect(made.code, made.stdout).to.equal(0);
    const t = (await suites([tpmSuite], r.outcome.ssh))['tpm/eve-device-key']!;
    expect(t.outcome, t.message).to.equal('fail');
    expect(t.message).to.match(/device\.key\.pem is there: EVE did not use the TPM/);
  });
});

describe('virtualization suite on the arm64 virtual box (TCG: EL1 only, the kernel says "HYP mode not available")', function () {
  this.timeout(3_600_000);
  let r: InstallRunResult;
  let out: string;

  before(async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-platform-arm64-'));
    const profile = profileVariant('qemu-arm64.yaml', 'virt-arm64', [[/\n  storage:\n/, '\n  virtualization: { cpu: true, iommu: false }\n  storage:\n']]);
    r = await runInstall({ profileFile: profile, releaseSrc: release, out });
  });

  after(async () => {
    await r?.scope.close();
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('the CPU check fails on the negative kernel line, which a substring match on "hyp mode" would have taken for proof', async () => {
    const dmesg = (await r.outcome.ssh.run('dmesg')).stdout;
    expect(dmesg, 'the kernel line the old check matched').to.match(/hyp mode/i);
    const list = await runSuites({
      ctx: { profile: r.loaded.profile, box: r.box, shell: r.outcome.ssh, console: r.box.console, runDir: out, reconnect: () => Promise.resolve() },
      modules: [virtualizationSuite],
      onTest: () => undefined,
    });
    const t = list.find((x) => x.id === 'virtualization/cpu-extensions')!;
    expect(t.outcome, t.message).to.equal('fail');
    expect(t.facts).to.deep.include({ '/dev/kvm': 'absent', 'kernel-positive': [] });
    expect(t.facts!['kernel-negative']).to.include('kvm [1]: HYP mode not available');
    expect(t.message).to.contain('HYP mode not available');
  });
});
