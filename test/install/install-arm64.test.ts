// `eve-qual install` on the virtual arm64 box (QEMU virt, cortex-a57, AAVMF), from the fixture release, through
// the CLI as a user runs it: exit 0, the step timings, the installed system's version over SSH.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';

describe('eve-qual install on a virtual arm64 box (fixture release, virt + AAVMF)', function () {
  this.timeout(1_800_000);
  let out: string;
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('installs, boots the installed disk, and answers over SSH', async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-install-arm64-'));
    const r = await eveQual(['install', '--profile', 'hardware-profiles/qemu-arm64.yaml', '--release', release, '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.contain('0.0.0-fixture-kvm-arm64 installed on qemu-arm64');
    expect(r.all).to.match(/Step timings:\n(.*\d+\.\d s\s+ok\n)+/);
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-arm64.log'), 'utf8');
    expect(con).to.contain('EVE-OS installation started');
    expect(con).to.contain('Edge Virtualization Engine');
    expect(fs.readFileSync(path.join(out, 'steps.log'), 'utf8')).to.match(/ok SSH answers with the injected key/);
  });
});
