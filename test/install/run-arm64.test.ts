// `eve-qual run --level 2` on the virtual arm64 box (QEMU virt, cortex-a57, AAVMF), from the fixture release,
// through the CLI as a user runs it: the install (step timings, the installer's and EVE's lines on the console),
// then every declared check passing, each with the facts that proved it.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';

describe('eve-qual run --level 2 on a virtual arm64 box (fixture release, virt + AAVMF)', function () {
  this.timeout(1_800_000);
  let out: string;
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('installs, boots the installed disk, answers over SSH, and passes every declared check of level 2', async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-install-arm64-'));
    const r = await eveQual(['run', '--profile', 'hardware-profiles/qemu-arm64.yaml', '--release', release, '--level', '2', '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-arm64.log'), 'utf8');
    expect(con).to.contain('EVE-OS installation started');
    expect(con).to.contain('Edge Virtualization Engine');
    expect(fs.readFileSync(path.join(out, 'steps.log'), 'utf8')).to.match(/ok SSH answers with the injected key/);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.status).to.equal('finished');
    const bad = res.tests.filter((t) => t.outcome === 'fail' || t.outcome === 'error' || (t.outcome === 'skip' && t.reason !== 'not-declared'));
    expect(bad.map((t) => `${t.id}: ${t.outcome} ${t.message ?? ''}`)).to.deep.equal([]);
    for (const id of ['install/installer-completes', 'remote-shell/ssh-key', 'ethernet/eth0/carrier', 'usb/stick0/stores-data', 'watchdog/resets', 'storage/disk0/present']) {
      expect(res.tests.find((t) => t.id === id)?.outcome, id).to.equal('pass');
    }
    const unproven = res.tests.filter((t) => t.outcome === 'pass' && !Object.keys(t.facts ?? {}).length);
    expect(unproven.map((t) => t.id), 'passes without facts').to.deep.equal([]);
  });
});
