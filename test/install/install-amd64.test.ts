// The whole install on a virtual amd64 box from the fixture release: installer on a USB stick, EVE's installer lines
// watched on the serial console, the installed disk booted through OVMF and GRUB, autologin, version check, SSH with
// the injected key. One booted box is shared by the tests of this file.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootToShell } from '../../lib/install/boot-to-shell.ts';
import { repinAfterBoot } from '../../lib/install/console-host-keys.ts';
import { runInstall, type InstallRunResult } from '../../lib/run/install-run.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

describe('install on a virtual amd64 box (fixture release, q35 + OVMF)', function () {
  this.timeout(1_800_000);
  let r: InstallRunResult;
  let out: string;
  const progress: string[] = [];

  before(async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-install-amd64-'));
    r = await runInstall({
      profileFile: path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'),
      releaseSrc: release,
      out,
      progress: (l) => progress.push(l),
    });
  });

  after(async () => {
    await r?.scope.close();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('reports every step with its duration in steps.log', () => {
    const log = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
    for (const step of ['installer starts', 'installer picks the target disk', 'installation completes (NOTICE)', 'installed system reaches a console shell', 'SSH host key read on the console', 'SSH answers with the injected key']) {
      expect(log).to.match(new RegExp(`ok ${step.replace(/[()]/g, '\\$&')} \\d+\\.\\d+s`));
    }
    expect(progress.some((l) => l.startsWith('✔ installer starts'))).to.equal(true);
  });

  it("watched EVE's installer lines on the console and the disk it chose", () => {
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8');
    expect(con).to.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d : EVE-OS installation started/);
    expect(con).to.contain('NOTICE: Device will now power off.');
    expect(r.outcome.installDisk).to.match(/vda$/);
    expect(r.outcome.eveRelease).to.equal('0.0.0-fixture-kvm-amd64');
  });

  it('gives an SSH shell on the installed system', async () => {
    // SSH lands in EVE's debug container: the host's files are under /hostfs
    const res = await r.outcome.ssh.run('cat /hostfs/etc/issue; eve version');
    expect(res.code).to.equal(0);
    expect(res.stdout).to.contain('Edge Virtualization Engine');
    expect(res.stdout.trim().split('\n').pop()).to.equal('0.0.0-fixture-kvm-amd64');
  });

  it('boots the installed disk again after a power cycle; EVE makes a new SSH host key at every boot, learned on the console and re-pinned', async () => {
    const record = path.join(out, 'ssh_host_key');
    const before = fs.readFileSync(record, 'utf8');
    r.box.console.discard();
    await r.box.power.cycle();
    await bootToShell(r.box.console, { timeout: 300_000 });
    const shown = await repinAfterBoot(r.box, r.outcome.ssh, [record], 120_000);
    await r.outcome.ssh.waitReady({ timeout: 180_000 });
    const res = await r.outcome.ssh.run('cat /run/eve-release');
    expect(res.stdout.trim()).to.equal('0.0.0-fixture-kvm-amd64');
    const after = fs.readFileSync(record, 'utf8');
    const fp = (t: string) => /SHA256:\S+/.exec(t)?.[0];
    expect(fp(after), 'the key SSH offered after the boot is one the console showed').to.be.oneOf(shown.keys.map((k) => k.fingerprint));
    expect(fp(after), 'a new boot, a new host key (pkg/debug/ssh-service.sh)').not.to.equal(fp(before));
  });
});
