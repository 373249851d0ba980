// Cellular checks. No cellular modem can be emulated in QEMU here, so ModemManager's side is a stand-in: mmcli
// outputs in the -J format ModemManager prints for real modems (Quectel EM12-G connected, Sierra EM7455 without a
// SIM, Quectel EG25-G still searching), replayed by a stand-in `mmcli` in the fixture image. The test names say so.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { bearerStatus, modemPaths, modemStatus } from '../../suites/mmcli.ts';
import { eveQual, fixtureRelease, profileVariant, repoRoot } from '../helpers/fixture-release.ts';

const recorded = (name: string) =>
  fs.readFileSync(path.join(repoRoot, 'tools', 'fixtures', 'rootfs', 'usr', 'share', 'fixture-mmcli', name), 'utf8').replace(/@N@/g, '0');

describe('mmcli -J parsing (recorded-format outputs of real modems; stand-in, no modem here)', () => {
  it('reads a connected modem and its bearer', () => {
    const m = modemStatus(recorded('connected.modem.json'));
    expect(m).to.include({ state: 'connected', registration: 'home', operator: 'Telekom.de', model: 'EM12-G' });
    expect(m.sim).to.equal('/org/freedesktop/ModemManager1/SIM/0');
    expect(m.bearers).to.deep.equal(['/org/freedesktop/ModemManager1/Bearer/0']);
    const b = bearerStatus(recorded('connected.bearer.json'));
    expect(b).to.deep.include({ connected: true, interface: 'wwan0', ipv4: '10.156.43.27' });
  });

  it('reads a modem without a SIM as failed with no SIM and no registration', () => {
    const m = modemStatus(recorded('sim-missing.modem.json'));
    expect(m).to.include({ state: 'failed', failedReason: 'sim-missing', sim: null, registration: null });
    expect(m.bearers).to.deep.equal([]);
  });

  it('reads a modem still searching as not registered', () => {
    expect(modemStatus(recorded('searching.modem.json'))).to.include({ state: 'searching', registration: 'searching' });
  });

  it('reads the modem list and rejects output that is not JSON', () => {
    expect(modemPaths('{"modem-list":["/org/freedesktop/ModemManager1/Modem/3"]}')).to.deep.equal(['/org/freedesktop/ModemManager1/Modem/3']);
    expect(modemPaths('{"modem-list":[]}')).to.deep.equal([]);
    expect(() => modemStatus("error: couldn't find modem")).to.throw(/did not print JSON/);
  });
});

describe('cellular suite on the virtual box (stand-in mmcli in the fixture image)', function () {
  this.timeout(1_800_000);
  let tmp: string;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('passes the connected modem and fails the one without a SIM', async () => {
    const release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-cellular-'));
    const profile = profileVariant('qemu-amd64.yaml', 'cellular', [
      ['  disk: vda\n', '  disk: vda\n  extraArgs: [eve_qual_fixture_modems=connected+sim-missing]\n'],
      ['  watchdog:', '  cellular:\n    - { name: modem0, model: EM12-G, apn: internet, interface: wwan0 }\n    - { name: modem1, model: EM7455 }\n  watchdog:'],
    ]);
    const out = path.join(tmp, 'run');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'cellular', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const o = Object.fromEntries(res.tests.filter((t) => t.capability === 'cellular').map((t) => [t.name, t.outcome]));
    expect(o).to.deep.equal({
      'modem0: detected by ModemManager': 'pass',
      'modem0: SIM present and registered': 'pass',
      'modem0: data bearer connected': 'pass',
      'modem1: detected by ModemManager': 'pass',
      'modem1: SIM present and registered': 'fail',
      'modem1: data bearer connected': 'fail',
    });
    const sim = res.tests.find((t) => t.name === 'modem1: SIM present and registered')!;
    expect(sim.message).to.contain('sim-missing');
  });
});
