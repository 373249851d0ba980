// Cellular checks. No cellular modem can be emulated in QEMU here, so ModemManager's side is a stand-in: mmcli
// outputs in the -J format ModemManager prints for real modems (Quectel EM12-G connected, Sierra EM7455 without a
// SIM, Quectel EG25-G still searching), replayed by a stand-in `mmcli` in the fixture's wwan service, which also
// does what EVE's wwan agent does to a modem its network config does not list. The test names say so.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { bearerStatus, modemPaths, modemStatus, physAddrsOf } from '../../suites/mmcli.ts';
import { eveQual, fixtureRelease, profileVariant, repoRoot } from '../helpers/fixture-release.ts';

const recorded = (name: string) =>
  fs.readFileSync(path.join(repoRoot, 'tools', 'fixtures', 'rootfs', 'usr', 'share', 'fixture-mmcli', name), 'utf8').replace(/@N@/g, '0').replace(/@P@/g, '3');

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

  it("reads a modem's address as EVE's wwan agent does: USB <bus>:<port>, the PCI device above it, its net port", () => {
    const m = modemStatus(recorded('connected.modem.json'));
    expect(m.powerState).to.equal('on');
    expect(physAddrsOf(m)).to.deep.equal({ usb: '2:3', pci: '0000:00:14.0', interface: 'wwan0' });
    const pcie = { ...m, device: '/sys/devices/pci0000:00/0000:00:1c.0/0000:2c:00.0', ports: ['wwan0mbim0 (mbim)', 'wwan0 (net)'] };
    expect(physAddrsOf(pcie)).to.deep.equal({ usb: '', pci: '0000:2c:00.0', interface: 'wwan0' });
    const hub = { ...m, device: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.4' };
    expect(physAddrsOf(hub).usb).to.equal('1:1.4');
  });
});

describe("cellular suite on the virtual box (stand-in mmcli in the fixture's wwan service)", function () {
  this.timeout(1_800_000);
  let tmp: string;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("EVE's wwan agent disables the radio of a modem the network config does not list: eve-qual lists the declared modems with their APNs, and skips what it cannot list", async () => {
    const release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-cellular-'));
    // modem0 connected (named by interface), modem1 without a SIM (by USB address), modem2 searching and named by
    // nothing (EVE cannot be told about it), modem3 connected but the profile's APN is one its network refuses.
    const profile = profileVariant('qemu-amd64.yaml', 'cellular', [
      ['  disk: vda\n', '  disk: vda\n  extraArgs: [eve_qual_fixture_modems=connected+sim-missing+searching+connected]\n'],
      [
        '  watchdog:',
        [
          '  cellular:',
          '    - { name: modem0, model: EM12-G, apn: internet, interface: wwan0 }',
          '    - { name: modem1, model: EM7455, apn: internet, usbAddr: "2:4" }',
          '    - { name: modem2, model: EG25-G }',
          '    - { name: modem3, model: EM12-G, apn: not.this.network, interface: wwan3 }',
          '  watchdog:',
        ].join('\n'),
      ],
    ]);
    const out = path.join(tmp, 'run');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'cellular', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const tests = res.tests.filter((t) => t.capability === 'cellular');
    const o = Object.fromEntries(tests.map((t) => [t.name, t.outcome]));
    expect(o).to.deep.equal({
      'modem0: detected by ModemManager': 'pass',
      'modem0: SIM present': 'pass',
      'modem0: registered': 'pass',
      'modem0: data bearer connected': 'pass',
      'modem1: detected by ModemManager': 'pass',
      'modem1: SIM present': 'fail',
      'modem1: registered': 'fail',
      'modem1: data bearer connected': 'fail',
      'modem2: detected by ModemManager': 'pass',
      'modem2: SIM present': 'pass',
      'modem2: registered': 'skip',
      'modem2: data bearer connected': 'skip',
      'modem3: detected by ModemManager': 'pass',
      'modem3: SIM present': 'pass',
      'modem3: registered': 'pass',
      'modem3: data bearer connected': 'fail',
    });
    const t = (name: string) => tests.find((x) => x.name === name)!;
    expect(t('modem1: SIM present').message).to.contain('sim-missing');
    const skipped = t('modem2: registered');
    expect(skipped.reason).to.equal('not-run');
    expect(skipped.message).to.contain('does not list modem2').and.contain('no usbAddr, pciAddr or interface');
    expect((skipped.facts?.modem as { powerState: string }).powerState).to.equal('low');
    expect(t('modem3: data bearer connected').message).to.contain('Missing or unknown APN');
    // The config EVE was given, read back from the box's CONFIG, is in the facts.
    expect(t('modem0: registered').facts?.networkConfig).to.deep.include({ known: true, source: '/config/DevicePortConfig/override.json' });
    expect(t('modem0: registered').facts?.listedAs).to.deep.include({ logicalLabel: 'modem0', apn: 'internet' });
  });
});
