// Install failures on the virtual box, through the CLI as a user meets them: the right exit code, the cause in
// words, the console tail, and no stray process.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease, profileVariant } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

describe('eve-qual install: failures on the virtual box', function () {
  this.timeout(1_800_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-installfail-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => expect(runningProcesses(/^qemu-system/, tmp), 'a qemu process was left behind').to.deep.equal([]));

  it('no free disk: FATAL from the installer is a box failure (exit 1), reported within seconds of the line', async () => {
    const profile = profileVariant('qemu-amd64.yaml', 'nodisk', [
      ['  disk: vda\n', ''],
      ['targetDisk: { sizeMb: 2048, bus: virtio }', 'targetDisk: null'],
      [/  usb:\n.*\n/, ''],
    ]);
    const out = path.join(tmp, 'nodisk');
    const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    expect(r.all).to.contain("FATAL: didn't find a single free disk");
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8');
    const fatalAt = Date.parse(/^(\S+) \| .*FATAL: didn't find a single free disk/m.exec(con)![1]!);
    const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
    const failedAt = Date.parse(/^(\S+) failed installer picks the target disk/m.exec(steps)![1]!);
    expect(failedAt - fatalAt).to.be.below(5000);
  });

  it('a profile naming the wrong serial port: a lab error (exit 3) naming console.device, with the console tail', async () => {
    const profile = profileVariant('qemu-amd64.yaml', 'wrongport', [
      ['device: ttyS0', 'device: ttyS1'],
      ['installerStart: 180', 'installerStart: 60'],
    ]);
    const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', path.join(tmp, 'wrongport')]);
    expect(r.exitCode, r.all).to.equal(3);
    // The installer runs on ttyS1 unseen and powers the box off, or the start deadline runs out: either way a lab error.
    expect(r.all).to.match(/powered off before its installer showed on the console|timed out after 60 s waiting for the installer/);
    expect(r.all).to.contain('ttyS1');
    expect(r.all).to.contain('--- last console lines');
    expect(r.all).to.contain('Boot 0.0.0-fixture-kvm-amd64-installer');
  });

  // EVE's pause reasons are several words (pkg/installer/install: pause "shutting the node down"). The idle deadline
  // is long here, so only recognising the pause line can end the install early.
  it("EVE pauses with a multi-word reason (eve_pause_after_install): exit 3 at once, naming the pause and the option", async () => {
    const profile = profileVariant('qemu-amd64.yaml', 'paused', [
      ['  disk: vda\n', '  disk: vda\n  extraArgs: [eve_pause_after_install]\n'],
      ['deadlines: { installerStart: 180,', 'deadlines: { installerIdle: 600, installerStart: 180,'],
    ]);
    const out = path.join(tmp, 'paused');
    const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', out]);
    expect(r.exitCode, r.all).to.equal(3);
    expect(r.all).to.contain('the installer paused before shutting the node down (eve_pause_after_install');
    expect(r.all).to.not.match(/the console was silent/);
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8');
    const pausedAt = Date.parse(/^(\S+) \| Pausing before shutting the node down\./m.exec(con)![1]!);
    const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
    const failedAt = Date.parse(/^(\S+) error installation completes/m.exec(steps)![1]!);
    expect(failedAt - pausedAt).to.be.below(5000);
  });
});
