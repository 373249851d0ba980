// The level suites on the virtual box, through `eve-qual run` as a user runs it: the full suite passes when the
// profile matches the VM; with seeded defects (the VM lacks or breaks declared hardware) exactly the affected tests
// fail and the rest pass. The JUnit of these real runs is checked against the schema.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease, profileVariant, repoRoot } from '../helpers/fixture-release.ts';

const XSD = path.join(repoRoot, 'schemas', 'junit-10.xsd');

function outcomes(r: RunResults): Record<string, string> {
  return Object.fromEntries(r.tests.map((t) => [t.id, t.outcome]));
}

async function validJUnit(file: string): Promise<void> {
  const xsd = fs.existsSync(XSD) ? XSD : path.join(repoRoot, '..', 'shared', 'schemas', 'junit-10.xsd');
  const r = await execa('xmllint', ['--noout', '--schema', xsd, file], { reject: false, all: true });
  expect(r.exitCode, r.all).to.equal(0);
}

describe('eve-qual run on the virtual box (level suites)', function () {
  this.timeout(1_800_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-level-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('passes every declared check when the profile matches the VM (level 2), with valid JUnit', async () => {
    const out = path.join(tmp, 'matching');
    const profile = profileVariant('qemu-amd64.yaml', 'matching', [['watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 90 }', 'watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 60 }']]);
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--level', '2', '--out', out, '--operator', 'LF Edge lab']);
    expect(r.exitCode, r.all).to.equal(0);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.status).to.equal('finished');
    const o = outcomes(res);
    for (const id of ['install/installer-completes', 'remote-shell/ssh-key', 'ethernet/eth1/dhcp', 'ethernet/eth1/traffic', 'usb/stick0/stores-data', 'watchdog/resets', 'tpm/sha256-bank', 'tpm/eve-device-key', 'storage/disk0/present', 'storage/disk0/read-speed', 'storage/disk0/write-speed']) {
      expect(o[id], id).to.equal('pass');
    }
    expect(o['cellular/declared']).to.equal('skip');
    expect(res.tests.find((t) => t.id === 'cellular/declared')!.reason).to.equal('not-declared');
    expect(Object.values(o).filter((x) => x === 'fail' || x === 'error')).to.deep.equal([]);
    expect(fs.readdirSync(path.join(out, 'inventory'))).to.include('cpuinfo.txt');
    await validJUnit(path.join(out, 'junit.xml'));
  });

  it('fails exactly the affected tests with seeded defects: a missing NIC, an absent USB stick, a watchdog that never resets', async () => {
    const out = path.join(tmp, 'defects');
    const profile = profileVariant('qemu-amd64.yaml', 'defects', [
      ['watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 90 }', 'watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 30 }'],
      ['  defects: []', '  defects:\n    - { omit: ethernet.eth1 }\n    - { omit: usb.stick0 }\n    - { watchdogNeverResets: true }'],
    ]);
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--level', '2', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const failed = res.tests.filter((t) => t.outcome === 'fail').map((t) => t.id).sort();
    expect(failed).to.deep.equal(
      [
        'ethernet/eth1/present',
        'ethernet/eth1/model',
        'ethernet/eth1/carrier',
        'ethernet/eth1/dhcp',
        'ethernet/eth1/speed',
        'ethernet/eth1/duplex',
        'ethernet/eth1/traffic',
        'usb/stick0/enumerates',
        'usb/stick0/speed',
        'usb/stick0/size',
        'usb/stick0/stores-data',
        'watchdog/resets',
      ].sort(),
    );
    expect(res.tests.filter((t) => t.outcome === 'error')).to.deep.equal([]);
    const o = outcomes(res);
    for (const id of ['ethernet/eth0/traffic', 'tpm/tpm2-present', 'watchdog/driver', 'storage/disk0/present']) {
      expect(o[id], id).to.equal('pass');
    }
    const wd = res.tests.find((t) => t.id === 'watchdog/resets')!;
    // the timer runs with the 60 s EVE's watchdog daemon sets (as declared), plus the 30 s margin
    expect(wd.message).to.match(/did not reset within 90 s/);
    await validJUnit(path.join(out, 'junit.xml'));
  });

  it('fails the watchdog checks when a declared watchdog is absent', async () => {
    const out = path.join(tmp, 'nowatchdog');
    const profile = profileVariant('qemu-amd64.yaml', 'nowatchdog', [
      ['watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 90 }', 'watchdog: { driver: i6300esb, timeoutSeconds: 60, marginSeconds: 30 }'],
      ['  defects: []', '  defects:\n    - { omit: watchdog }'],
    ]);
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'watchdog', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const o = outcomes(res);
    // q35 always has an iTCO timer: /dev/watchdog exists but is not the declared i6300esb.
    expect(o['watchdog/driver']).to.equal('fail');
    expect(o['inventory/collected']).to.equal('pass');
    expect(o['remote-shell/ssh-key']).to.equal('pass');
  });
});
